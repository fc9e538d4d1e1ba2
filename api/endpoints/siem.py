"""The SIEM's pull endpoint: findings as OCSF Detection Findings in JSON Lines, after a cursor.

The cursor is the audit ledger's sequence. Every change to a finding (raised, triaged, reopened,
resolved) is a ledger entry, and entries become visible in sequence order (the ledger's head row is
locked until the writing transaction commits), so "entries after N" never skips one that commits
late, as a timestamp cursor would. A SIEM keeps the ``X-Next-Cursor`` of each answer and asks from
there; an empty body means nothing new.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from api import schemas
from api.auth import caller
from api.choices import Scope
from api.endpoints.inventory import scopes
from api.ocsf import detection_finding
from audits import selectors
from ledger.models import LedgerEntry
from portal import policy
from portal.links import absolute_url

router = Router(tags=["siem"])

CONTENT_TYPE = "application/x-ndjson"
MAX_LIMIT = 1000
FINDING_TARGET = "audits.Finding"


class CursorQuery(Schema):
    cursor: int = 0
    limit: int = 500


def finding_changes_after(*, user: Any, cursor: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The OCSF events of the finding changes after ``cursor`` that ``user`` may see, and the next
    cursor (past every entry read, seen or not, so a person who sees few findings still moves on)."""
    entries = list(
        LedgerEntry.objects.filter(target_type=FINDING_TARGET, sequence__gt=cursor).order_by("sequence")[
            :limit
        ]
    )
    if not entries:
        return [], cursor
    visible = {
        str(finding.uuid): finding
        for finding in selectors.findings_visible_to(user=user).filter(
            uuid__in={entry.target_id for entry in entries}
        )
    }
    events = [
        detection_finding(
            finding=found,
            entry=entry,
            web_url=absolute_url("audits:finding_detail", kwargs={"uuid": found.uuid}),
        )
        for entry in entries
        if (found := visible.get(entry.target_id)) is not None
    ]
    return events, entries[-1].sequence


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
    events, next_cursor = finding_changes_after(
        user=user, cursor=max(query.cursor, 0), limit=min(max(query.limit, 1), MAX_LIMIT)
    )
    body = "".join(json.dumps(event, separators=(",", ":")) + "\n" for event in events)
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["X-Next-Cursor"] = str(next_cursor)
    return response
