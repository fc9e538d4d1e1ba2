"""Choices of the evidence side, in the domain's words."""

from __future__ import annotations

from django.db import models


class SourceKind(models.TextChoices):
    FILES = "files", "Local files or folder"
    S3 = "s3", "Organization trail in S3"
    LOOKUP = "lookup", "CloudTrail LookupEvents"
    SQS = "sqs", "EventBridge events via SQS"
    UPLOAD = "upload", "Uploaded file"


class RunStatus(models.TextChoices):
    # An upload accepted and waiting for the worker that ingests it.
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Finished with rejected files"
    FAILED = "failed", "Failed"


class SyncStatus(models.TextChoices):
    # Asked for from the page and waiting for a worker.
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class SyncTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Beat schedule"
    COMMAND = "command", "manage.py sync_organization"
    ON_DEMAND = "on_demand", "On demand, by an administrator"


class OrganizationChangeKind(models.TextChoices):
    """What one organization sync changed on one account (each is also a ledger entry)."""

    ADDED = "added", "New account (ungoverned)"
    LINKED = "linked", "Account already in the inventory found in the organization"
    RENAMED = "renamed", "Renamed"
    EMAIL_CHANGED = "email_changed", "Root e-mail changed"
    MOVED = "moved", "Moved to another OU"
    STATE_CHANGED = "state_changed", "Status changed"
    TAGS_CHANGED = "tags_changed", "Tags changed"
    ENVIRONMENT_CHANGED = "environment_changed", "Environment changed"
    LEFT = "left", "Left the organization"
    RETURNED = "returned", "Back in the organization"


class ExportJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Ready to download"
    FAILED = "failed", "Failed"
    # Done once; its file was removed after PORTAL_EXPORT_KEEP_HOURS.
    EXPIRED = "expired", "Expired"


class FindingKind(models.TextChoices):
    UNAPPROVED_ROOT_USAGE = "unapproved_root_usage", "Root used without an approved check-out"
    ROOT_LOGIN_WITHOUT_MFA = "root_login_without_mfa", "Root sign-in without MFA"
    ROOT_LOGIN_FAILED = "root_login_failed", "Failed root sign-in"
    ROOT_ACCESS_KEY_CREATED = "root_access_key_created", "Root access key created"
    ROOT_PASSWORD_RECOVERY = "root_password_recovery", "Root password recovery or change"
    ROOT_MFA_CHANGED = "root_mfa_changed", "Root MFA device changed"
    ROOT_CLOUDTRAIL_TAMPERING = "root_cloudtrail_tampering", "Root stopped or changed CloudTrail"
    ROOT_ACTIVITY_OUTSIDE_SCOPE = "root_activity_outside_scope", "Root action outside the declared task"
    CHECKOUT_OVERDUE = "checkout_overdue", "Check-out overdue"
    ROTATION_OVERDUE = "rotation_overdue", "Password rotation overdue"
    EMERGENCY_ACCESS_UNREVIEWED = "emergency_access_unreviewed", "Emergency access without approvals"
    EMERGENCY_UNACKNOWLEDGED = "emergency_unacknowledged", "Emergency access not acknowledged in time"
    LEDGER_CHAIN_BROKEN = "ledger_chain_broken", "Audit ledger chain broken"
    ACCESS_REVIEW_INCOMPLETE = "access_review_incomplete", "Access review not completed by its deadline"
    # Root posture (issue 10, item 2): raised and resolved by audits.posture from what AWS reports.
    ROOT_ACCESS_KEYS_PRESENT = "root_access_keys_present", "Root user has access keys"
    ROOT_MFA_MISSING = "root_mfa_missing", "Root user has no MFA"
    ROOT_MFA_VIRTUAL = "root_mfa_virtual", "Root user MFA is virtual, not hardware"
    ALTERNATE_CONTACT_MISSING = "alternate_contact_missing", "Alternate contact missing"
    ROOT_PASSWORD_PRESENT_IN_CENTRALISED_ACCOUNT = (
        "root_password_present_in_centralised_account",
        "Root password present in a centralised account",
    )
    ROOT_SIGNING_CERTIFICATE_PRESENT = (
        "root_signing_certificate_present",
        "Root user has a signing certificate",
    )
    CENTRAL_ROOT_MANAGEMENT_OFF = "central_root_management_off", "Centralised root access is off"
    ROOT_MFA_REGISTRY_MISMATCH = "root_mfa_registry_mismatch", "Root MFA differs from the inventory"
    DRILL_EVENT_MISSING = "drill_event_missing", "Drill's root sign-in never arrived (alarm broken)"
    APPROVER_UNREACHABLE = "approver_unreachable", "Approver did not confirm they can be reached"
    MFA_DEVICE_NOT_RETURNED = "mfa_device_not_returned", "MFA device not back in the safe in time"
    # Issue 12: sts:AssumeRoot credentials the portal did not issue (someone called the API directly).
    ASSUME_ROOT_UNBROKERED = "assume_root_unbrokered", "AssumeRoot used outside the portal"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


#: The severity each kind of finding is raised with: DESIGN's findings table, as one literal. A failed
#: root sign-in is medium, but a burst of them in one hour (someone guessing the password) is
#: ``FAILED_LOGIN_BURST_SEVERITY``; the burst's size is ``audits.reconcile.wanted.FAILED_LOGIN_BURST``.
SEVERITY_BY_KIND: dict[str, str] = {
    FindingKind.UNAPPROVED_ROOT_USAGE: Severity.CRITICAL,
    FindingKind.ROOT_LOGIN_WITHOUT_MFA: Severity.CRITICAL,
    FindingKind.ROOT_LOGIN_FAILED: Severity.MEDIUM,
    FindingKind.ROOT_ACCESS_KEY_CREATED: Severity.CRITICAL,
    FindingKind.ROOT_PASSWORD_RECOVERY: Severity.HIGH,
    FindingKind.ROOT_MFA_CHANGED: Severity.HIGH,
    FindingKind.ROOT_CLOUDTRAIL_TAMPERING: Severity.CRITICAL,
    FindingKind.ROOT_ACTIVITY_OUTSIDE_SCOPE: Severity.HIGH,
    FindingKind.CHECKOUT_OVERDUE: Severity.HIGH,
    FindingKind.ROTATION_OVERDUE: Severity.MEDIUM,
    FindingKind.EMERGENCY_ACCESS_UNREVIEWED: Severity.HIGH,
    # One person broke the glass alone and no second person acknowledged it within
    # PORTAL_EMERGENCY_ACK_MINUTES: critical at once (issue 8, item 1).
    FindingKind.EMERGENCY_UNACKNOWLEDGED: Severity.CRITICAL,
    FindingKind.LEDGER_CHAIN_BROKEN: Severity.CRITICAL,
    # Access nobody recertified by the deadline of a review (PCI DSS 7.2.4).
    FindingKind.ACCESS_REVIEW_INCOMPLETE: Severity.HIGH,
    # Root posture: CIS AWS Foundations 1.4/1.5/1.6 and Security Hub IAM.4/IAM.9/IAM.6/Account.1.
    FindingKind.ROOT_ACCESS_KEYS_PRESENT: Severity.CRITICAL,
    FindingKind.ROOT_MFA_MISSING: Severity.CRITICAL,
    # Medium, but ROOT_MFA_VIRTUAL_PRODUCTION_SEVERITY on an account in a PRODUCTION_ENVIRONMENTS.
    FindingKind.ROOT_MFA_VIRTUAL: Severity.MEDIUM,
    FindingKind.ALTERNATE_CONTACT_MISSING: Severity.MEDIUM,
    FindingKind.ROOT_PASSWORD_PRESENT_IN_CENTRALISED_ACCOUNT: Severity.HIGH,
    FindingKind.ROOT_SIGNING_CERTIFICATE_PRESENT: Severity.HIGH,
    FindingKind.CENTRAL_ROOT_MANAGEMENT_OFF: Severity.MEDIUM,
    # The inventory's story of who holds root's second factor is wrong: a custody question.
    FindingKind.ROOT_MFA_REGISTRY_MISMATCH: Severity.HIGH,
    # A drill's root sign-in never reached the portal: a real one would not have either (issue 9, item 4).
    FindingKind.DRILL_EVENT_MISSING: Severity.CRITICAL,
    # Silent approver; APPROVER_UNREACHABLE_QUORUM_SEVERITY when the account's quorum can no longer be
    # met by the approvers who can be reached.
    FindingKind.APPROVER_UNREACHABLE: Severity.MEDIUM,
    # Half of root out of the safe with nobody vouching for it (issue 11, item 5).
    FindingKind.MFA_DEVICE_NOT_RETURNED: Severity.HIGH,
    # Root of a member account taken without a request, an approval or a record of why (issue 12).
    FindingKind.ASSUME_ROOT_UNBROKERED: Severity.CRITICAL,
}
APPROVER_UNREACHABLE_QUORUM_SEVERITY: str = Severity.HIGH
FAILED_LOGIN_BURST_SEVERITY: str = Severity.HIGH
#: A virtual root MFA on an account whose environment is one of these is high, not medium: the
#: accounts whose root matters most (production data, the organization itself, the security tooling).
PRODUCTION_ENVIRONMENTS: frozenset[str] = frozenset({"production", "management", "security"})
ROOT_MFA_VIRTUAL_PRODUCTION_SEVERITY: str = Severity.HIGH


def severity_of(kind: str, *, environment: str = "") -> str:
    """The severity a finding of ``kind`` is raised with on an account of ``environment``."""
    if kind == FindingKind.ROOT_MFA_VIRTUAL and environment in PRODUCTION_ENVIRONMENTS:
        return ROOT_MFA_VIRTUAL_PRODUCTION_SEVERITY
    return SEVERITY_BY_KIND[kind]


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
    FALSE_POSITIVE = "false_positive", "False positive"


class PostureStatus(models.TextChoices):
    """The result of one posture check on one account."""

    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    # AWS could not be asked (throttled, role missing, access denied): the reason says why, and the
    # finding the check governs is left as it was.
    ERROR = "error", "Error"
    # The check does not apply (a root password in a classic account, hardware MFA with no MFA at all).
    NOT_APPLICABLE = "not_applicable", "Not applicable"
