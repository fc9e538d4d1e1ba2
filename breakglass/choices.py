"""Choices of the inventory and workflow, in the domain's words."""

from __future__ import annotations

from django.db import models


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    STAGING = "staging", "Staging"
    DEVELOPMENT = "development", "Development"
    SANDBOX = "sandbox", "Sandbox"
    SECURITY = "security", "Security"
    MANAGEMENT = "management", "Management"


class GovernanceMode(models.TextChoices):
    # Root keeps a password and MFA devices; the portal guards them.
    CLASSIC = "classic", "Password and MFA (classic)"
    # Root credentials deleted; privileged tasks go through sts:AssumeRoot from the management account.
    CENTRALISED = "centralised", "Centralised root access"


class OrganizationState(models.TextChoices):
    """An account's state in AWS Organizations (the ``State`` field; the legacy ``Status`` maps onto it).

    Blank: the account was entered by hand and has not been seen in the organization (yet).
    """

    NOT_IMPORTED = "", "Not from the organization"
    PENDING_ACTIVATION = "PENDING_ACTIVATION", "Pending activation"
    ACTIVE = "ACTIVE", "Active"
    SUSPENDED = "SUSPENDED", "Suspended"
    PENDING_CLOSURE = "PENDING_CLOSURE", "Pending closure"
    CLOSED = "CLOSED", "Closed"


#: States in which nobody may file a request for the account's root: it is being closed or is closed.
CLOSED_ORGANIZATION_STATES = frozenset({OrganizationState.PENDING_CLOSURE, OrganizationState.CLOSED})


class CredentialStorage(models.TextChoices):
    PORTAL = "portal", "Encrypted in the portal"
    PHYSICAL = "physical", "Physical (safe and sealed envelope)"
    NONE = "none", "No password (centralised root access)"


class MfaDeviceKind(models.TextChoices):
    FIDO = "fido", "FIDO security key"
    HARDWARE_TOTP = "hardware_totp", "Hardware TOTP token"
    VIRTUAL = "virtual", "Virtual authenticator (flagged)"


class CustodyState(models.TextChoices):
    IN_SAFE = "in_safe", "In safe"
    CHECKED_OUT = "checked_out", "Checked out"
    # Given back at check-in; in the safe only once a custodian confirms it (issue 11, item 5).
    RETURNING = "returning", "Returned, awaiting a custodian"
    LOST = "lost", "Lost"
    RETIRED = "retired", "Retired"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved"
    ACTIVE = "active", "Checked out"
    RETURNED = "returned", "Returned, rotation pending"
    CLOSED = "closed", "Closed"
    DENIED = "denied", "Denied"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approved"
    DENY = "deny", "Denied"


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email list"
    SLACK = "slack", "Slack-compatible incoming webhook"
    WEBHOOK = "webhook", "JSON webhook signed with HMAC-SHA256"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed after retries"


class CampaignStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class UndecidedOutcome(models.TextChoices):
    """What happens at a campaign's deadline to a grant nobody decided on."""

    EXPIRE = "expire", "Expire the grant"
    KEEP = "keep", "Keep the grant"


class ReviewSubject(models.TextChoices):
    GRANT = "grant", "Grant"
    APPROVER = "approver", "Approver assignment"
    CUSTODIAN = "custodian", "Custodian assignment"
    DEVICE = "device", "MFA device in the safe"


class ReviewDecision(models.TextChoices):
    KEEP = "keep", "Keep"
    REVOKE = "revoke", "Revoke"
    # Devices: the custodian saw it in the safe and typed its serial, or did not find it.
    SEEN = "seen", "Seen in the safe"
    MISSING = "missing", "Missing"


class DrillResult(models.TextChoices):
    """What a break-glass drill proved about the alarm chain (blank while it is still running)."""

    PASSED = "passed", "Passed: the alarm chain worked"
    EVENT_MISSING = "event_missing", "Failed: the root sign-in never arrived"
    ALERT_FAILED = "alert_failed", "Failed: the alert was not delivered"


class TaskRunStatus(models.TextChoices):
    """One carrying-out of an AssumeRoot task by the portal (breakglass.task_runs)."""

    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
