"""The evidence side of drills and approver reachability (issue 9, item 4).

- (``audits.reconcile.drills.observe_drills``, during reconciliation, records a drill's matched root
  sign-in and sends its "drill observed" alert; being matched, it raises no ``unapproved_root_usage``.)
- :func:`drill_events_missing`, beat: a drill checked in ``PORTAL_DRILL_EVENT_DEADLINE_MINUTES`` ago
  whose sign-in never arrived is the critical finding ``drill_event_missing`` (the alarm is broken).
- :func:`approver_unreachable_findings`, a receiver of ``breakglass.signals.approver_unreachable``:
  a silent approver is a finding per account they approve for, high when that account's quorum can
  no longer be met by the approvers who can be reached.

Findings are raised through ``audits.alerts`` like every other; severities come from
``audits.choices.SEVERITY_BY_KIND``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from audits import alerts
from audits.choices import APPROVER_UNREACHABLE_QUORUM_SEVERITY, SEVERITY_BY_KIND, FindingKind
from audits.models import Finding
from audits.reconcile import reconcile
from audits.reconcile.wording import account_label
from breakglass import drills
from breakglass.models import Drill
from breakglass.signals import approver_unreachable
from portal.people import person_label

if TYPE_CHECKING:
    from breakglass.models import AwsAccount, ReachabilityCheck

MISSING = FindingKind.DRILL_EVENT_MISSING
UNREACHABLE = FindingKind.APPROVER_UNREACHABLE


def _missing_summary(drill: Drill, minutes: int) -> str:
    request = drill.request
    label = account_label(request.account.account_id, request.account)
    checked_in = request.checked_in_at
    return (
        f"The root sign-in of the drill {request.code} on {label}, performed by "
        f"{person_label(request.requester)} and checked in at {checked_in:%Y-%m-%d %H:%M} UTC, had not "
        f"reached the portal {minutes} minutes later: a real root sign-in would go unnoticed too. Check "
        "the CloudTrail sources and their last runs, the organization trail and EventBridge rule, and "
        "ask the performer whether they really signed in as root."
    )


def drill_events_missing(*, now: datetime | None = None) -> list[Finding]:
    """Raise ``drill_event_missing`` for every drill past its event deadline without its root sign-in.

    The drills' accounts are reconciled first, so a sign-in that is stored but not yet matched is
    not mistaken for a missing one. Returns the findings raised."""
    now = now or timezone.now()
    minutes = settings.PORTAL_DRILL_EVENT_DEADLINE_MINUTES
    deadline = timedelta(minutes=minutes)
    due = drills.drills_awaiting_event(now=now, deadline=deadline)
    if not due:
        return []
    reconcile(account_ids=sorted({drill.request.account.account_id for drill in due}), now=now)
    raised = []
    for drill in drills.drills_awaiting_event(now=now, deadline=deadline):
        request = drill.request
        key = f"{MISSING.value}:{request.code}"
        with transaction.atomic():
            finding = Finding.objects.filter(dedupe_key=key).first()
            if finding is None:
                summary = _missing_summary(drill, minutes)
                finding = alerts.finding_raise(
                    key=key,
                    kind=MISSING,
                    severity=SEVERITY_BY_KIND[MISSING],
                    first_seen=drill.event_deadline or now,
                    last_seen=now,
                    summary=summary,
                    account=request.account,
                    session=request,
                )
                alerts.finding_alert(
                    finding=finding,
                    account=request.account,
                    short_label=str(request.account),
                    event_ids=(),
                    now=now,
                )
                raised.append(finding)
            drills.drill_mark_event_missing(drill=drill, finding_code=finding.code, now=now)
    return raised


def _unreachable_summary(check: ReachabilityCheck, account: AwsAccount, reachable: int) -> str:
    quorum = account.approval_quorum
    tail = (
        f"only {reachable} of its approvers can be reached, fewer than its quorum of {quorum}: "
        "nobody could approve a break-glass request. Add an approver or lower the quorum now."
        if reachable < quorum
        else f"{reachable} reachable approver(s) still meet its quorum of {quorum}."
    )
    return (
        f"{person_label(check.approver)}, an approver of {account}, was asked on "
        f"{check.asked_at:%Y-%m-%d} to confirm they can be reached and did not by "
        f"{check.deadline:%Y-%m-%d %H:%M} UTC; {tail}"
    )


@receiver(approver_unreachable, dispatch_uid="audits.approver_unreachable")
def approver_unreachable_findings(
    sender: Any, *, check: ReachabilityCheck, accounts: list[tuple[AwsAccount, int]], **_: Any
) -> list[Finding]:
    """One finding per account the silent approver approves for, in the transaction of the lapse."""
    now = timezone.now()
    findings = []
    for account, reachable in accounts:
        key = f"{UNREACHABLE.value}:{check.uuid}:{account.account_id}"
        if Finding.objects.filter(dedupe_key=key).exists():
            continue
        severity = (
            APPROVER_UNREACHABLE_QUORUM_SEVERITY
            if reachable < account.approval_quorum
            else SEVERITY_BY_KIND[UNREACHABLE]
        )
        summary = _unreachable_summary(check, account, reachable)
        finding = alerts.finding_raise(
            key=key,
            kind=UNREACHABLE,
            severity=severity,
            first_seen=check.deadline,
            last_seen=now,
            summary=summary,
            account=account,
            detail={
                "approver": check.approver.get_username(),
                "reachable": reachable,
                "quorum": account.approval_quorum,
            },
        )
        findings.append(finding)
    return findings
