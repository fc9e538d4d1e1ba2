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
}
FAILED_LOGIN_BURST_SEVERITY: str = Severity.HIGH


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
    FALSE_POSITIVE = "false_positive", "False positive"
