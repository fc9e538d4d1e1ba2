"""The SIEM feed: findings and ledger entries as OCSF events, read forwards from a cursor (issue 14,
item 3). The mapping is ``audits.ocsf``; this module only reads, through the same selectors as the
pages, so a feed never shows more than its reader could see in the browser.

Each feed is read oldest change first and hands back the cursor to ask with next time, also when
nothing new came (the SIEM polls with the cursor it last got; nothing is missed or sent twice):

* findings by the ledger sequence of their changes (raised, triaged, reopened, resolved): each change
  comes once, with the finding as it is now, as an OCSF *Create*, *Update* or *Close*;
* the ledger by ``sequence``: entries never change, each comes once, with its chain hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audits import ocsf, selectors
from ledger.models import LedgerEntry
from ledger.selectors import ledger_entries
from portal.links import absolute_url

MAX_BATCH = 1000


@dataclass(frozen=True)
class Batch:
    events: list[dict[str, Any]]
    cursor: str


FINDING_TARGET = "audits.Finding"


def finding_batch(*, user: Any, cursor: str = "", limit: int = 500) -> Batch:
    """The changes to findings the person may see after the ledger sequence ``cursor``, each as the
    finding's current state stamped with the change. The cursor moves past every entry read, seen or
    not, so a person who sees few findings still moves on; entries become visible in sequence order
    (the ledger's head row is locked until the writing transaction commits), so none that commits
    late is skipped, as a timestamp cursor would."""
    after = int(cursor) if cursor.isdigit() else 0
    entries = list(
        LedgerEntry.objects.filter(target_type=FINDING_TARGET, sequence__gt=after).order_by("sequence")[
            : min(limit, MAX_BATCH)
        ]
    )
    if not entries:
        return Batch(events=[], cursor=str(after))
    visible = {
        str(finding.uuid): finding
        for finding in selectors.findings_visible_to(user=user).filter(
            uuid__in={entry.target_id for entry in entries}
        )
    }
    events = [
        ocsf.detection_finding(finding_facts(found), change=change_facts(entry))
        for entry in entries
        if (found := visible.get(entry.target_id)) is not None
    ]
    return Batch(events=events, cursor=str(entries[-1].sequence))


def change_facts(entry: LedgerEntry) -> ocsf.ChangeFacts:
    data = entry.data if isinstance(entry.data, dict) else {}
    return ocsf.ChangeFacts(
        sequence=entry.sequence,
        action=entry.action,
        to_status=str(data.get("to") or ""),
        actor_name=entry.actor_name,
        request_id=entry.request_id,
        created_at=entry.created_at,
    )


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
        account_name=finding.account.name if finding.account_id else "",
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
