"""Findings and ledger entries as OCSF events, for a SIEM (issue 14, item 3).

The Open Cybersecurity Schema Framework (OCSF 1.3) is what Splunk, Elastic, Amazon Security Lake and
most SIEMs read natively. Two classes carry what the portal has to say:

* a finding is a **Detection Finding** (``class_uid`` 2004, category 2 *Findings*): created when it is
  raised, updated when it changes, closed when resolved or dismissed;
* a ledger entry is an **Account Change** (``class_uid`` 3001, category 3 *Identity & Access
  Management*): every decision about root access is a change of who may act as root, and sign-ins,
  MFA and role changes are changes of a portal account. Actions with no OCSF activity of their own
  are *Other* (99) with the portal's action name in ``activity_name``.

Pure functions over plain values (no database, no settings), so the mapping is tested on its own and
the same mapping serves every way out (a pull endpoint, a webhook, a file).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

OCSF_VERSION = "1.3.0"
PRODUCT = {"name": "Break-glass root portal", "vendor_name": "breakglass-portal"}

DETECTION_FINDING = 2004
ACCOUNT_CHANGE = 3001
FINDINGS_CATEGORY = 2
IAM_CATEGORY = 3

SEVERITY_ID = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
#: Finding status -> (OCSF status_id, status name); activity follows: open is *Create* on first
#: sight and *Update* after, resolved and dismissed are *Close*.
STATUS = {
    "open": (1, "New"),
    "acknowledged": (2, "In Progress"),
    "false_positive": (3, "Suppressed"),
    "resolved": (4, "Resolved"),
}
CREATE, UPDATE, CLOSE = 1, 2, 3
#: Ledger action -> Account Change activity (OCSF 1.3 ids); the rest are Other (99).
ACCOUNT_ACTIVITY = {
    "user.created": (1, "Create"),
    "user.deleted": (6, "Delete"),
    "auth.password_changed": (3, "Password Change"),
    "auth.password_set": (3, "Password Change"),
    "user.password_set": (3, "Password Change"),
    "auth.password_reset": (4, "Password Reset"),
    "mfa.authenticator_added": (10, "MFA Factor Enable"),
    "mfa.authenticator_removed": (11, "MFA Factor Disable"),
    "mfa.authenticator_reset": (11, "MFA Factor Disable"),
    # A role, or a grant on an account's root, is a policy attached to (or detached from) a person.
    "user.roles_changed": (7, "Attach Policy"),
    "grant.created": (7, "Attach Policy"),
    "grant.revoked": (8, "Detach Policy"),
    "grant.expired_unreviewed": (8, "Detach Policy"),
}
OTHER = (99, "Other")


@dataclass(frozen=True)
class FindingFacts:
    uuid: str
    code: str
    kind: str
    kind_label: str
    severity: str
    status: str
    summary: str
    aws_account_id: str
    first_seen: datetime
    last_seen: datetime
    created_at: datetime
    updated_at: datetime
    url: str
    event_ids: tuple[str, ...] = ()
    session_code: str = ""
    account_name: str = ""


@dataclass(frozen=True)
class ChangeFacts:
    """The ledger entry that changed a finding: the feed's position and what the change was."""

    sequence: int
    action: str
    to_status: str
    actor_name: str
    request_id: str
    created_at: datetime


@dataclass(frozen=True)
class LedgerFacts:
    sequence: int
    created_at: datetime
    actor_name: str
    action: str
    target_type: str
    target_id: str
    target_repr: str
    request_id: str
    data: Mapping[str, Any]
    hash: str


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _type_uid(class_uid: int, activity_id: int) -> int:
    return class_uid * 100 + activity_id


def activity_of(change: ChangeFacts | None, finding: FindingFacts) -> tuple[int, str]:
    """What a change did to the finding (raised: Create; resolved or dismissed: Close; else Update);
    without a change, what the finding's own state says."""
    if change is not None:
        if change.action == "finding.raised":
            return CREATE, "Create"
        if change.action == "finding.resolved" or change.to_status in ("resolved", "false_positive"):
            return CLOSE, "Close"
        return UPDATE, "Update"
    if finding.status in ("resolved", "false_positive"):
        return CLOSE, "Close"
    if finding.updated_at > finding.created_at:
        return UPDATE, "Update"
    return CREATE, "Create"


def detection_finding(finding: FindingFacts, *, change: ChangeFacts | None = None) -> dict[str, Any]:
    """One finding, as it is now, as an OCSF Detection Finding; stamped with the ledger entry that
    changed it when there is one (the SIEM feed), so a reader that keeps the latest event per
    ``finding_info.uid`` has every finding's current state."""
    status_id, status = STATUS.get(finding.status, (99, "Other"))
    activity_id, activity = activity_of(change, finding)
    severity_id = SEVERITY_ID.get(finding.severity, 0)
    moment = change.created_at if change is not None else finding.updated_at
    account: dict[str, Any] = {"uid": finding.aws_account_id, "type": "AWS Account", "type_id": 10}
    if finding.account_name:
        account["name"] = finding.account_name
    metadata: dict[str, Any] = {"version": OCSF_VERSION, "product": PRODUCT, "log_name": "findings"}
    unmapped: dict[str, Any] = {
        "portal_uuid": finding.uuid,
        "cloudtrail_event_ids": list(finding.event_ids),
        "session": finding.session_code or None,
    }
    if change is not None:
        # The ledger entry: its sequence is the feed's cursor, its request id ties it to the logs.
        metadata.update(uid=str(change.sequence), correlation_uid=change.request_id)
        unmapped.update(change=change.action, changed_by=change.actor_name)
    else:
        metadata["uid"] = f"{finding.code}@{_ms(finding.updated_at)}"
    return {
        "class_uid": DETECTION_FINDING,
        "class_name": "Detection Finding",
        "category_uid": FINDINGS_CATEGORY,
        "category_name": "Findings",
        "activity_id": activity_id,
        "activity_name": activity,
        "type_uid": _type_uid(DETECTION_FINDING, activity_id),
        "type_name": f"Detection Finding: {activity}",
        "time": _ms(moment),
        "severity_id": severity_id,
        "severity": finding.severity.capitalize(),
        "status_id": status_id,
        "status": status,
        "message": finding.summary,
        "metadata": metadata,
        "finding_info": {
            "uid": finding.code,
            "title": finding.kind_label,
            "desc": finding.summary,
            "types": [finding.kind],
            "created_time": _ms(finding.created_at),
            "modified_time": _ms(finding.updated_at),
            "first_seen_time": _ms(finding.first_seen),
            "last_seen_time": _ms(finding.last_seen),
            "src_url": finding.url,
        },
        "cloud": {"provider": "AWS", "account": account},
        "resources": [{"uid": f"arn:aws:iam::{finding.aws_account_id}:root", "type": "AWS IAM root user"}],
        "unmapped": unmapped,
    }


def account_change(entry: LedgerFacts) -> dict[str, Any]:
    """One ledger entry as an OCSF Account Change, with its chain hash so a SIEM can check it."""
    activity_id, activity = ACCOUNT_ACTIVITY.get(entry.action, OTHER)
    return {
        "class_uid": ACCOUNT_CHANGE,
        "class_name": "Account Change",
        "category_uid": IAM_CATEGORY,
        "category_name": "Identity & Access Management",
        "activity_id": activity_id,
        "activity_name": entry.action if activity_id == OTHER[0] else activity,
        "type_uid": _type_uid(ACCOUNT_CHANGE, activity_id),
        "time": _ms(entry.created_at),
        "severity_id": 1,
        "severity": "Informational",
        "status_id": 1,
        "status": "Success",
        "message": f"{entry.actor_name}: {entry.action} {entry.target_repr}".strip(),
        "metadata": {
            "version": OCSF_VERSION,
            "product": PRODUCT,
            "uid": str(entry.sequence),
            "correlation_uid": entry.request_id,
            "sequence": entry.sequence,
        },
        "actor": {"user": {"name": entry.actor_name}},
        "user": {"name": entry.target_repr, "uid": entry.target_id, "type": entry.target_type},
        "unmapped": {"action": entry.action, "data": dict(entry.data), "ledger_hash": entry.hash},
    }


def json_lines(events: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """One compact JSON object per line: what Splunk's HEC raw endpoint and Elastic's bulk loaders read."""
    for event in events:
        yield json.dumps(event, separators=(",", ":"), sort_keys=True, default=str).encode() + b"\n"
