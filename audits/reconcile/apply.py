"""Applying what is wanted to the stored findings: raise, update, resolve, link, alert, ledger.

Only what differs is written. New findings are raised (with a ``finding.raised`` ledger entry),
changed ones updated (reopened when they apply again), and those that no longer apply (their events
matched after a window change) resolved with an automatic note and a ledger entry. Findings are never
deleted. Critical findings are announced at once, once per finding: ``alerted_at`` is set in the
transaction that queues the notifications (``breakglass.notifications.outbox.queue_alert``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audits import alerts
from audits.choices import FindingStatus
from audits.models import Finding, RootEvent
from audits.reconcile.wanted import MANAGED_KINDS, Wanted
from audits.reconcile.wording import (
    reopen_note,
    reopen_reason,
    resolve_note,
    short_account_label,
)
from breakglass.models import AwsAccount
from ledger import services as ledger

__all__ = ["AccountScope", "apply_findings"]


@dataclass(frozen=True)
class AccountScope:
    """The account being reconciled (``account`` None: not in the inventory) and the run's time."""

    aws_account_id: str
    account: AwsAccount | None
    now: datetime


def apply_findings(scope: AccountScope, wanted: dict[str, Wanted], events_by_pk: dict[int, RootEvent]) -> int:
    """Bring the account's stored findings in line with ``wanted``; how many were raised or changed."""
    existing = {
        finding.dedupe_key: finding
        for finding in Finding.objects.filter(aws_account_id=scope.aws_account_id, kind__in=MANAGED_KINDS)
    }
    links: dict[int, set[int]] = defaultdict(set)
    if existing:
        for finding_id, event_id in Finding.events.through.objects.filter(
            finding_id__in=[finding.pk for finding in existing.values()]
        ).values_list("finding_id", "rootevent_id"):
            links[finding_id].add(event_id)
    changed = 0
    for key in sorted(wanted):
        finding = existing.get(key)
        if finding is None:
            finding = _raise(scope, key, wanted[key])
            changed += 1
        elif _update(scope, finding, wanted[key], links[finding.pk]):
            changed += 1
        _alert(scope, finding, wanted[key])
    for key, finding in sorted(existing.items()):
        if key not in wanted and finding.status in (FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED):
            _resolve(scope, finding, links[finding.pk], events_by_pk)
            changed += 1
    return changed


def _raise(scope: AccountScope, key: str, want: Wanted) -> Finding:
    finding = alerts.finding_create(
        key=key,
        kind=want.kind,
        severity=want.severity,
        first_seen=want.first_seen,
        last_seen=want.last_seen,
        summary=want.summary,
        aws_account_id=scope.aws_account_id,
        account=scope.account,
        session=want.session,
    )
    _link(finding, {event.pk for event in want.events}, set())
    ledger.record(actor=None, action="finding.raised", target=finding, data=_ledger_data(finding, want))
    return finding


def _update(scope: AccountScope, finding: Finding, want: Wanted, linked: set[int]) -> bool:
    wanted_ids = {event.pk for event in want.events}
    gained = wanted_ids - linked
    fields = {
        "severity": want.severity,
        "summary": want.summary,
        "first_seen": want.first_seen,
        "last_seen": want.last_seen,
        "session_id": want.session.pk if want.session is not None else None,
        # An account added to the inventory after its findings were raised.
        "account_id": scope.account.pk if scope.account is not None else None,
    }
    dirty = [name for name, value in fields.items() if getattr(finding, name) != value]
    for name in dirty:
        setattr(finding, name, fields[name])
    reopen = (finding.status == FindingStatus.RESOLVED and finding.triaged_by_id is None) or (
        finding.status in (FindingStatus.RESOLVED, FindingStatus.FALSE_POSITIVE) and bool(gained)
    )
    if wanted_ids != linked:
        _link(finding, wanted_ids, linked)
    if not dirty and not reopen:
        return wanted_ids != linked
    if reopen:
        previous = finding.status
        finding.status = FindingStatus.OPEN
        finding.triaged_by = None
        finding.triaged_at = None
        # A reopened critical finding is news again.
        finding.alerted_at = None
        dirty += ["status", "triaged_by", "triaged_at", "alerted_at"]
        reason = reopen_reason(gained_events=bool(gained))
        finding.triage_note = reopen_note(reason)
        dirty.append("triage_note")
        ledger.record(
            actor=None,
            action="finding.reopened",
            target=finding,
            data={**_ledger_data(finding, want), "from": previous, "reason": reason},
        )
    finding.save(update_fields=[*{name.removesuffix("_id") for name in dirty}, "updated_at"])
    return True


def _resolve(
    scope: AccountScope, finding: Finding, linked: set[int], events_by_pk: dict[int, RootEvent]
) -> None:
    codes = sorted(
        {
            event.session.code
            for pk in linked
            if (event := events_by_pk.get(pk)) is not None
            and event.session_id is not None
            and event.session is not None
        }
    )
    note = resolve_note(finding.kind, codes)
    previous = finding.status
    finding.status = FindingStatus.RESOLVED
    finding.triage_note = note
    finding.triaged_by = None
    finding.triaged_at = scope.now
    finding.save(update_fields=["status", "triage_note", "triaged_by", "triaged_at", "updated_at"])
    ledger.record(
        actor=None,
        action="finding.resolved",
        target=finding,
        data={
            "code": finding.code,
            "kind": finding.kind,
            "account_id": finding.aws_account_id,
            "from": previous,
            "to": FindingStatus.RESOLVED,
            "note": note,
            "sessions": codes,
        },
    )


def _link(finding: Finding, wanted_ids: set[int], linked: set[int]) -> None:
    through = Finding.events.through
    removed = linked - wanted_ids
    if removed:
        through.objects.filter(finding_id=finding.pk, rootevent_id__in=removed).delete()
    added = wanted_ids - linked
    if added:
        through.objects.bulk_create(
            [through(finding_id=finding.pk, rootevent_id=pk) for pk in sorted(added)],
            ignore_conflicts=True,
        )


def _ledger_data(finding: Finding, want: Wanted) -> dict[str, Any]:
    event_ids = sorted(event.event_id for event in want.events)
    return {
        "code": finding.code,
        "kind": finding.kind,
        "severity": finding.severity,
        "account_id": finding.aws_account_id,
        "session": want.session.code if want.session is not None else None,
        "event_count": len(event_ids),
        "event_ids": event_ids[: alerts.EVENT_IDS_SHOWN],
    }


def _alert(scope: AccountScope, finding: Finding, want: Wanted) -> None:
    alerts.finding_alert(
        finding=finding,
        account=scope.account,
        short_label=short_account_label(scope.aws_account_id, scope.account),
        event_ids=(event.event_id for event in want.events),
        now=scope.now,
    )
