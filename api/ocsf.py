"""Findings as OCSF Detection Findings (class 2004, OCSF 1.3), one JSON object per ledger entry that
changed the finding: what a SIEM reads from ``GET /api/v1/siem/findings``.

Pure: it takes the finding and the entry (both already read through the selectors) and builds the
event; it reads nothing itself. Each event carries the finding as it is now, stamped with the time
and kind of the change (created, updated, closed), so a SIEM that keeps the latest event per
``finding_info.uid`` has every finding's current state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from audits.choices import FindingKind, FindingStatus, Severity

if TYPE_CHECKING:
    from audits.models import Finding
    from ledger.models import LedgerEntry

OCSF_VERSION = "1.3.0"
DETECTION_FINDING = 2004
FINDINGS_CATEGORY = 2
PRODUCT = {"name": "Root break-glass portal", "vendor_name": "Root break-glass portal"}

CREATE, UPDATE, CLOSE = 1, 2, 3
_ACTIVITY_NAMES = {CREATE: "Create", UPDATE: "Update", CLOSE: "Close"}
SEVERITY_IDS = {Severity.LOW: 2, Severity.MEDIUM: 3, Severity.HIGH: 4, Severity.CRITICAL: 5}
#: OCSF status ids: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved.
STATUS_IDS = {
    FindingStatus.OPEN: (1, "New"),
    FindingStatus.ACKNOWLEDGED: (2, "In Progress"),
    FindingStatus.FALSE_POSITIVE: (3, "Suppressed"),
    FindingStatus.RESOLVED: (4, "Resolved"),
}
_CLOSED = {FindingStatus.RESOLVED, FindingStatus.FALSE_POSITIVE}


def activity_of(entry: LedgerEntry) -> int:
    """What the ledger entry did to the finding, as an OCSF activity."""
    if entry.action == "finding.raised":
        return CREATE
    if entry.action == "finding.resolved" or entry.data.get("to") in _CLOSED:
        return CLOSE
    return UPDATE


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


def detection_finding(*, finding: Finding, entry: LedgerEntry, web_url: str) -> dict[str, Any]:
    activity = activity_of(entry)
    status_id, status = STATUS_IDS[FindingStatus(finding.status)]
    account = finding.account
    return {
        "class_uid": DETECTION_FINDING,
        "class_name": "Detection Finding",
        "category_uid": FINDINGS_CATEGORY,
        "category_name": "Findings",
        "activity_id": activity,
        "activity_name": _ACTIVITY_NAMES[activity],
        "type_uid": DETECTION_FINDING * 100 + activity,
        "type_name": f"Detection Finding: {_ACTIVITY_NAMES[activity]}",
        "time": _ms(entry.created_at),
        "severity_id": SEVERITY_IDS[Severity(finding.severity)],
        "severity": str(Severity(finding.severity).label),
        "status_id": status_id,
        "status": status,
        "message": finding.summary,
        "finding_info": {
            "uid": finding.code,
            "title": str(FindingKind(finding.kind).label),
            "desc": finding.summary,
            "types": [finding.kind],
            "first_seen_time": _ms(finding.first_seen),
            "last_seen_time": _ms(finding.last_seen),
            "src_url": web_url,
        },
        "cloud": {
            "provider": "AWS",
            "account": {
                "uid": finding.aws_account_id,
                "type": "AWS Account",
                "type_id": 10,
                **({"name": account.name} if account is not None else {}),
            },
        },
        "resources": [{"uid": f"arn:aws:iam::{finding.aws_account_id}:root", "type": "AWS IAM root user"}],
        "metadata": {
            "version": OCSF_VERSION,
            "product": PRODUCT,
            # The ledger entry: its sequence is the stream's cursor, its request id ties it to the logs.
            "uid": str(entry.sequence),
            "correlation_uid": entry.request_id,
            "log_name": "findings",
        },
        "unmapped": {
            "cloudtrail_event_ids": [event.event_id for event in finding.events.all()],
            "session": finding.session.code if finding.session is not None else None,
            "change": entry.action,
            "changed_by": entry.actor_name,
        },
    }
