"""The SIEM feed: findings and ledger entries as OCSF events, read forwards from a cursor (issue 14,
item 3). The mapping is ``audits.ocsf``; this module only reads, through the same selectors as the
pages, so a feed never shows more than its reader could see in the browser.

Each feed is read oldest change first and hands back the cursor to ask with next time, also when
nothing new came (the SIEM polls with the cursor it last got; nothing is missed or sent twice):

* findings by ``(updated_at, id)``: a finding that changes moves to the end and comes again, as an
  OCSF *Update* or *Close*;
* the ledger by ``sequence``: entries never change, each comes once, with its chain hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from audits import ocsf, selectors
from ledger.models import LedgerEntry
from ledger.selectors import ledger_entries
from portal.links import absolute_url

MAX_BATCH = 1000


@dataclass(frozen=True)
class Batch:
    events: list[dict[str, Any]]
    cursor: str


def _finding_position(cursor: str) -> tuple[datetime, int] | None:
    moment, _, pk = cursor.partition("~")
    parsed = parse_datetime(moment) if moment else None
    return (parsed, int(pk)) if parsed is not None and pk.isdigit() else None


def finding_batch(*, user: Any, cursor: str = "", limit: int = 500) -> Batch:
    """Findings the person may see that changed after ``cursor``, oldest change first."""
    findings = selectors.findings_visible_to(user=user)
    position = _finding_position(cursor)
    if position is not None:
        moment, pk = position
        findings = findings.filter(Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=pk))
    rows = list(findings.order_by("updated_at", "pk")[: min(limit, MAX_BATCH)])
    events = [ocsf.detection_finding(finding_facts(finding)) for finding in rows]
    last = rows[-1] if rows else None
    return Batch(events=events, cursor=f"{last.updated_at.isoformat()}~{last.pk}" if last else cursor)


def finding_facts(finding: Any) -> ocsf.FindingFacts:
    """The plain values the OCSF mapping needs; the finding's events come prefetched (the selector)."""
    return ocsf.FindingFacts(
        uuid=str(finding.uuid),
        code=finding.code,
        kind=finding.kind,
        kind_label=finding.get_kind_display(),
        severity=finding.severity,
        status=finding.status,
        summary=finding.summary,
        aws_account_id=finding.aws_account_id,
        first_seen=finding.first_seen,
        last_seen=finding.last_seen,
        created_at=finding.created_at,
        updated_at=finding.updated_at,
        url=absolute_url("audits:finding_detail", kwargs={"uuid": finding.uuid}),
        event_ids=tuple(event.event_id for event in finding.events.all()),
        session_code=finding.session.code if finding.session_id else "",
    )


def ledger_batch(*, user: Any, cursor: str = "", limit: int = 500) -> Batch:
    """Ledger entries after the sequence ``cursor`` names, for those who may read the ledger."""
    after = int(cursor) if cursor.isdigit() else 0
    entries = ledger_entries(user=user).filter(sequence__gt=after).order_by("sequence")
    rows: list[LedgerEntry] = list(entries[: min(limit, MAX_BATCH)])
    events = [
        ocsf.account_change(
            ocsf.LedgerFacts(
                sequence=entry.sequence,
                created_at=entry.created_at,
                actor_name=entry.actor_name,
                action=entry.action,
                target_type=entry.target_type,
                target_id=entry.target_id,
                target_repr=entry.target_repr,
                request_id=entry.request_id,
                data=entry.data or {},
                hash=entry.hash,
            )
        )
        for entry in rows
    ]
    return Batch(events=events, cursor=str(rows[-1].sequence) if rows else str(after))
