"""The SIEM's pull endpoint: findings as OCSF Detection Findings in JSON Lines, after a cursor.

The cursor is the audit ledger's sequence. Every change to a finding (raised, triaged, reopened,
resolved) is a ledger entry, and entries become visible in sequence order (the ledger's head row is
locked until the writing transaction commits), so "entries after N" never skips one that commits
late, as a timestamp cursor would. A SIEM keeps the ``X-Next-Cursor`` of each answer and asks from
there; an empty body means nothing new.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from api import schemas
from api.auth import caller
from api.choices import Scope
from api.endpoints.inventory import scopes
from audits import ocsf, siem
from portal import policy

router = Router(tags=["siem"])

CONTENT_TYPE = "application/x-ndjson"
MAX_LIMIT = 1000


class CursorQuery(Schema):
    cursor: int = 0
    limit: int = 500


def _json_lines(batch: siem.Batch) -> HttpResponse:
    response = HttpResponse(b"".join(ocsf.json_lines(batch.events)), content_type=CONTENT_TYPE)
    response["X-Next-Cursor"] = batch.cursor
    return response


def _limit(query: CursorQuery) -> int:
    return min(max(query.limit, 1), MAX_LIMIT)


@router.get(
    "/siem/findings",
    response=schemas.answers(200, None),
    summary="Findings as OCSF Detection Findings (JSON Lines) after a cursor; X-Next-Cursor: the next one",
    openapi_extra={
        **scopes(Scope.READ_FINDINGS),
        "responses": {200: {"description": "One OCSF event a line", "content": {CONTENT_TYPE: {}}}},
    },
)
def siem_findings(request: HttpRequest, query: Query[CursorQuery]) -> HttpResponse:
    user = caller(request, Scope.READ_FINDINGS, allowed=policy.may_view_findings)
    return _json_lines(siem.finding_batch(user=user, cursor=str(max(query.cursor, 0)), limit=_limit(query)))


@router.get(
    "/siem/ledger",
    response=schemas.answers(200, None),
    summary="Audit ledger entries as OCSF Account Changes (JSON Lines) after a sequence; X-Next-Cursor",
    openapi_extra={
        **scopes(Scope.READ_FINDINGS),
        "responses": {200: {"description": "One OCSF event a line", "content": {CONTENT_TYPE: {}}}},
    },
)
def siem_ledger(request: HttpRequest, query: Query[CursorQuery]) -> HttpResponse:
    """Each entry once, in sequence, with its chain hash (``unmapped.ledger_hash``) so the SIEM can
    check it against ``verify_ledger``; for those who may read the ledger."""
    user = caller(request, Scope.READ_FINDINGS, allowed=policy.may_view_ledger)
    return _json_lines(siem.ledger_batch(user=user, cursor=str(max(query.cursor, 0)), limit=_limit(query)))
