"""Posture results to findings: raise on a failure, resolve on a pass, leave alone on an error.

The same dedupe and triage as every other finding (``audits.alerts`` creates them and alerts once on
critical ones; each change is a ledger entry in the caller's transaction):

* a failing check raises its finding, or refreshes it (summary, severity, ``last_seen``); a finding
  someone *resolved* reopens, because AWS says the condition is back; a *false positive* stays one;
* a passing (or no longer applicable) check resolves its open or acknowledged finding with a note;
* an error (AWS throttled, a role missing, access denied) changes nothing: not being able to look is
  no evidence that the problem went away.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from audits import alerts
from audits.choices import FindingStatus, PostureStatus, severity_of
from audits.models import Finding
from audits.posture.checks import Outcome
from audits.posture.controls import KIND_BY_CHECK, dedupe_key
from ledger import services as ledger

if TYPE_CHECKING:
    from breakglass.models import AwsAccount

RESOLVE_NOTE = "Resolved automatically: the posture check passed on {when:%Y-%m-%d %H:%M} UTC."
REOPEN_NOTE = "Reopened automatically: the posture check failed again on {when:%Y-%m-%d %H:%M} UTC."


def apply_outcome(*, outcome: Outcome, account: AwsAccount | None, now: datetime) -> str:
    """Bring the check's finding in line with its outcome; says what happened (for the run's summary):
    ``raised``, ``reopened``, ``updated``, ``resolved`` or ``""``."""
    if outcome.status == PostureStatus.ERROR:
        return ""
    aws_account_id = account.account_id if account is not None else ""
    key = dedupe_key(outcome.check, aws_account_id)
    finding = Finding.objects.select_for_update().filter(dedupe_key=key).first()
    if outcome.status == PostureStatus.FAIL:
        kind = KIND_BY_CHECK[outcome.check]
        severity = severity_of(kind, environment=account.environment if account is not None else "")
        if finding is None:
            finding = alerts.finding_create(
                key=key,
                kind=kind,
                severity=severity,
                first_seen=now,
                last_seen=now,
                summary=outcome.reason,
                aws_account_id=aws_account_id,
                account=account,
            )
            _record("finding.raised", finding, outcome)
            what = "raised"
        else:
            what = _refresh(finding, outcome, severity, now)
        alerts.finding_alert(
            finding=finding,
            account=account,
            short_label=str(account or "the organization"),
            event_ids=(),
            now=now,
        )
        return what
    if finding is not None and finding.status in (FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED):
        previous = finding.status
        finding.status = FindingStatus.RESOLVED
        finding.triage_note = RESOLVE_NOTE.format(when=now)
        finding.triaged_by = None
        finding.triaged_at = now
        finding.save(update_fields=["status", "triage_note", "triaged_by", "triaged_at", "updated_at"])
        _record("finding.resolved", finding, outcome, {"from": previous, "to": FindingStatus.RESOLVED})
        return "resolved"
    return ""


def _refresh(finding: Finding, outcome: Outcome, severity: str, now: datetime) -> str:
    fields = ["last_seen", "summary", "severity"]
    # Only a changed summary or severity counts as news; ``last_seen`` moves on every run.
    what = "updated" if (finding.summary, finding.severity) != (outcome.reason, severity) else ""
    finding.last_seen = now
    finding.summary = outcome.reason
    finding.severity = severity
    if finding.status == FindingStatus.RESOLVED:
        previous = finding.status
        finding.status = FindingStatus.OPEN
        finding.triaged_by = None
        finding.triaged_at = None
        finding.alerted_at = None  # a reopened critical finding is news again
        finding.triage_note = REOPEN_NOTE.format(when=now)
        fields += ["status", "triaged_by", "triaged_at", "alerted_at", "triage_note"]
        _record(
            "finding.reopened", finding, outcome, {"from": previous, "reason": "posture check failed again"}
        )
        what = "reopened"
    finding.save(update_fields=[*fields, "updated_at"])
    return what


def _record(action: str, finding: Finding, outcome: Outcome, extra: dict[str, str] | None = None) -> None:
    ledger.record(
        actor=None,
        action=action,
        target=finding,
        data={
            "code": finding.code,
            "kind": finding.kind,
            "severity": finding.severity,
            "account_id": finding.aws_account_id,
            "check": outcome.check,
            "summary": outcome.reason,
            **(extra or {}),
        },
    )
