"""Inventory of root credentials (accounts, where the password lives, MFA devices, grants) and the
break-glass workflow (requests, approvals, transitions, reveals)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from breakglass import root_tasks, tickets
from breakglass.choices import (
    ChannelKind,
    CredentialStorage,
    CustodyState,
    Decision,
    DeliveryStatus,
    Environment,
    GovernanceMode,
    MfaDeviceKind,
    OrganizationState,
    RequestStatus,
)
from breakglass.fields import SealedTextField
from portal.models import TimeStamped

#: The associated data of sealed channel targets. Changing it makes every stored target unreadable.
CHANNEL_TARGET_PURPOSE = "notification-channel-target"

account_id_validator = RegexValidator(
    r"^\d{12}$", "An AWS account id is exactly 12 digits, for example 123456789012."
)


class AwsAccount(TimeStamped):
    """One AWS account whose root user the portal governs, with who approves and who keeps custody."""

    account_id = models.CharField(
        "AWS account id", max_length=12, unique=True, validators=[account_id_validator]
    )
    name = models.CharField(max_length=100)
    environment = models.CharField(max_length=20, choices=Environment.choices, default=Environment.PRODUCTION)
    root_email = models.EmailField("root email")
    governance_mode = models.CharField(
        max_length=20, choices=GovernanceMode.choices, default=GovernanceMode.CLASSIC
    )
    approvers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="approver_for", blank=True)
    approval_quorum = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    custodians = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="custodian_for", blank=True)
    max_session_minutes = models.PositiveIntegerField(
        "maximum session length (minutes)",
        default=120,
        validators=[MinValueValidator(15), MaxValueValidator(24 * 60)],
    )
    ticket_required = models.BooleanField(default=True)
    # Separation of duties (issue 8, item 7): by default whoever approved a session may not also
    # hand over its MFA devices, so one person alone never releases both halves of root.
    separate_duties = models.BooleanField(
        "separate approval from hand-over",
        default=True,
        help_text="A custodian who approved a session may not hand over its MFA devices.",
    )
    # Issue 10: an account the organization import found is *ungoverned* until an administrator has
    # set its approvers and custodians; nobody may request its root before that (breakglass.rules).
    # Accounts entered by hand are governed from the start: the administrator set them up.
    governed = models.BooleanField(default=True)
    # What the organization import last saw (audits.organization); blank for accounts never seen there.
    organization_state = models.CharField(
        max_length=20, choices=OrganizationState.choices, default=OrganizationState.NOT_IMPORTED, blank=True
    )
    ou_path = models.CharField("OU path", max_length=1000, blank=True)
    organization_tags = models.JSONField(default=dict, blank=True)
    # Set when an account the import knew is no longer in the organization; never deleted (evidence).
    left_organization_at = models.DateTimeField(null=True, blank=True)
    # The organization has root sessions on (iam:EnableOrganizationsRootSessions) and this is a member
    # account, so sts:AssumeRoot can reach its root even in classic mode; set by the organization import.
    root_sessions_enabled = models.BooleanField("AssumeRoot available", default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(account_id__regex=r"^[0-9]{12}$"), name="account_id_12_digits"
            ),
            models.CheckConstraint(condition=Q(approval_quorum__gte=1), name="approval_quorum_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})"

    @property
    def root_credential_or_none(self) -> RootCredential | None:
        """The credential row if recorded (templates cannot catch ``RelatedObjectDoesNotExist``)."""
        try:
            return self.root_credential
        except RootCredential.DoesNotExist:
            return None

    @property
    def root_email_masked(self) -> str:
        """``j***@example.com``: enough to recognise, not enough to phish or reset with."""
        local, _, domain = self.root_email.partition("@")
        if not domain:
            return "***"
        return f"{local[:1]}***@{domain}"


class RootCredential(TimeStamped):
    """Where an account's root password lives. The plaintext is never stored: only the envelope."""

    account = models.OneToOneField(AwsAccount, on_delete=models.PROTECT, related_name="root_credential")
    storage = models.CharField(max_length=20, choices=CredentialStorage.choices)
    # AES-256-GCM envelope (see breakglass.crypto); never the plaintext.
    ciphertext = models.BinaryField(null=True, blank=True, editable=False)
    encryption_key_id = models.CharField(max_length=64, blank=True, editable=False)
    safe_location = models.CharField(max_length=200, blank=True)
    envelope_number = models.CharField("sealed-envelope number", max_length=64, blank=True)
    last_rotated_at = models.DateTimeField(null=True, blank=True)
    rotation_required = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(storage=CredentialStorage.PORTAL, ciphertext__isnull=False)
                    | Q(storage=CredentialStorage.PHYSICAL, ciphertext__isnull=True)
                    & ~Q(safe_location="")
                    & ~Q(envelope_number="")
                    | Q(storage=CredentialStorage.NONE, ciphertext__isnull=True)
                ),
                name="root_credential_storage_consistent",
            )
        ]

    def __str__(self) -> str:
        return f"root credential of {self.account}"


class MfaDevice(TimeStamped):
    """A hardware (or, flagged, virtual) MFA device registered on one or more root users."""

    kind = models.CharField(max_length=20, choices=MfaDeviceKind.choices)
    label = models.CharField(max_length=100)
    serial_number = models.CharField(max_length=100, unique=True)
    storage_location = models.CharField(max_length=200, blank=True)
    custody_state = models.CharField(
        max_length=20, choices=CustodyState.choices, default=CustodyState.IN_SAFE
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="held_mfa_devices",
    )
    accounts: models.ManyToManyField[AwsAccount, MfaDeviceAssignment] = models.ManyToManyField(
        AwsAccount, through="MfaDeviceAssignment", related_name="mfa_devices"
    )

    class Meta:
        ordering = ["label"]
        constraints = [
            # A device is held by a person exactly when it is checked out.
            models.CheckConstraint(
                condition=Q(custody_state=CustodyState.CHECKED_OUT, holder__isnull=False)
                | ~Q(custody_state=CustodyState.CHECKED_OUT) & Q(holder__isnull=True),
                name="mfa_device_holder_iff_checked_out",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.serial_number})"

    @property
    def is_virtual(self) -> bool:
        return self.kind == MfaDeviceKind.VIRTUAL


class MfaDeviceAssignment(TimeStamped):
    """An MFA device registered on an account's root user.

    ``device_kind`` repeats the device's kind so the database itself can refuse a hardware TOTP
    token on a second account (a TOTP seed can be registered on one root user only).
    """

    device = models.ForeignKey(MfaDevice, on_delete=models.CASCADE, related_name="assignments")
    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="mfa_assignments")
    device_kind = models.CharField(max_length=20, choices=MfaDeviceKind.choices, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "account"], name="mfa_assignment_once_per_account"),
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(device_kind=MfaDeviceKind.HARDWARE_TOTP),
                name="hardware_totp_on_one_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device} on {self.account}"


def live_grant_q(prefix: str = "", *, now: datetime | None = None) -> Q:
    """A grant that is live: not revoked and not expired. ``prefix`` reaches it through a relation
    (``"grants__"`` on ``AwsAccount``); combine it with the other conditions on that relation in one
    ``filter()`` call so they all apply to the same grant."""
    return Q(**{f"{prefix}revoked_at__isnull": True, f"{prefix}expires_at__gt": now or timezone.now()})


class GrantQuerySet(models.QuerySet["Grant"]):
    def live(self) -> GrantQuerySet:
        """Grants that make their holder eligible right now (the one definition of "live")."""
        return self.filter(live_grant_q())


class Grant(TimeStamped):
    """Makes a person eligible to request an account's root credential until it expires."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="grants")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grants_given"
    )
    expires_at = models.DateTimeField()
    emergency = models.BooleanField(
        default=False, help_text="May self-authorise when no approver can be reached."
    )
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    last_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["account__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account"],
                condition=Q(revoked_at__isnull=True),
                name="one_live_grant_per_person_and_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} may request {self.account}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


# --- Break-glass workflow ---------------------------------------------------------------------


class AccessRequest(TimeStamped):
    """One person's request to use an account's root credential for one root task.

    Its ``status`` follows the state machine in ``breakglass.lifecycle``; only the transition
    services there assign it. The check-out (hand-over, window, return) lives on the same row:
    one request is one session.
    """

    code = models.CharField(max_length=20, unique=True, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests"
    )
    account = models.ForeignKey(AwsAccount, on_delete=models.PROTECT, related_name="access_requests")
    root_task = models.CharField(max_length=40)
    other_task = models.CharField("explanation of the task", max_length=300, blank=True)
    # What an AssumeRoot unlock task acts on (breakglass.task_targets checks them); blank otherwise.
    task_bucket_name = models.CharField("S3 bucket", max_length=63, blank=True)
    task_queue_url = models.CharField("SQS queue URL", max_length=300, blank=True)
    justification = models.TextField()
    ticket_reference = models.CharField(max_length=100, blank=True)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField()
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING, editable=False
    )
    emergency = models.BooleanField(default=False, editable=False)
    # A scheduled break-glass drill (breakglass.drills): announced, with the normal lifecycle, so that
    # reports and pages never mistake it for real use.
    is_drill = models.BooleanField("drill", default=False, editable=False)
    # Set when an emergency session has collected its approvals afterwards.
    emergency_approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when a second person (an approver or custodian of the account) acknowledged an emergency
    # session; without it within PORTAL_EMERGENCY_ACK_MINUTES the session is a critical finding.
    emergency_acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    emergency_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="emergency_acknowledgements",
        editable=False,
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Check-out
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handovers",
        editable=False,
    )
    handed_over_at = models.DateTimeField(null=True, blank=True, editable=False)
    devices = models.ManyToManyField(MfaDevice, blank=True, related_name="sessions", editable=False)
    checked_out_at = models.DateTimeField(null=True, blank=True, editable=False)
    due_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Check-in and closing
    checked_in_at = models.DateTimeField(null=True, blank=True, editable=False)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    work_done = models.TextField("what was done as root", blank=True, editable=False)
    return_envelope_number = models.CharField(max_length=64, blank=True, editable=False)
    rotation_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    rotation_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    review_note = models.TextField(blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_overdue_notice_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "account"]),
            models.Index(fields=["requester", "status"]),
            # Keyset pages newest first: every request (auditors, the API) and one person's own (a
            # requester's 45,000 in issue 13 were sorted on every page).
            models.Index(models.F("created_at").desc(), models.F("id").desc(), name="request_newest"),
            models.Index(
                "requester",
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="request_requester_newest",
            ),
            # Drills, a few percent of the sessions: each account's last drill check-in (the drills
            # page's due order, one probe per account) and the latest drills, without the others.
            models.Index(
                fields=["account", "checked_in_at"], condition=Q(is_drill=True), name="request_drill_checkin"
            ),
            models.Index(
                models.F("starts_at").desc(), condition=Q(is_drill=True), name="request_drill_newest"
            ),
        ]
        constraints = [
            # A root password used by two people at once cannot be attributed: one session per account.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status=RequestStatus.ACTIVE),
                name="one_active_checkout_per_account",
            ),
            # A second pending request for the same account by the same person would split the
            # approvers' attention; rules.refusal_of_duplicate says so with a link, this is the race.
            models.UniqueConstraint(
                fields=["requester", "account"],
                condition=Q(status=RequestStatus.PENDING),
                name="one_pending_request_per_person_and_account",
            ),
            models.CheckConstraint(
                condition=Q(handed_over_by__isnull=True) | ~Q(handed_over_by=models.F("requester")),
                name="custodian_is_not_the_requester",
            ),
            models.CheckConstraint(condition=Q(duration_minutes__gte=1), name="duration_positive"),
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.ACTIVE)
                | Q(checked_out_at__isnull=False, due_at__isnull=False),
                name="active_has_checkout_times",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.account.name}"

    @property
    def ticket_url(self) -> str | None:
        """Where the ticket can be read (``PORTAL_TICKET_URL_TEMPLATE``), or None."""
        return tickets.ticket_link(self.ticket_reference)

    @property
    def window_ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_checked_out(self) -> bool:
        """The session is on: its holder has the root password and devices now (for templates,
        which cannot compare with the status enum)."""
        return self.status == RequestStatus.ACTIVE

    @property
    def task_title(self) -> str:
        return root_tasks.task_title(self.root_task, self.other_task)

    @property
    def status_label(self) -> str:
        """The status as pages show it: an AssumeRoot session awaits a review, not a rotation."""
        if self.status == RequestStatus.RETURNED and self.is_assume_root:
            return "Returned, review pending"
        return str(self.get_status_display())

    @property
    def is_assume_root(self) -> bool:
        """Carried out by the portal through sts:AssumeRoot: no password or device leaves the safe."""
        task = root_tasks.BY_CODE.get(self.root_task)
        return task is not None and task.is_assume_root


class DeviceReturn(models.Model):
    """One MFA device coming back from one session: given back at check-in, in the safe only once
    a custodian confirms it. Until then the device is ``RETURNING`` and cannot be handed over again;
    a return nobody confirms in time becomes a finding (``breakglass.sweeps.devices_not_returned``)."""

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="device_returns")
    device = models.ForeignKey(MfaDevice, on_delete=models.PROTECT, related_name="returns")
    returned_at = models.DateTimeField()
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["returned_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "device"], name="one_return_per_device_and_session"),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True, confirmed_by__isnull=True)
                | Q(confirmed_at__isnull=False, confirmed_by__isnull=False),
                name="device_return_confirmed_by_someone",
            ),
        ]
        indexes = [
            models.Index(
                fields=["returned_at"],
                name="device_return_waiting_idx",
                condition=Q(confirmed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.device} back from {self.request.code}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class Approval(TimeStamped):
    """One approver's decision on a request. The database holds: one decision per approver and
    request, and never the requester's own."""

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals")
    # Copied from the request so the database can compare the two.
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["request", "approver"], name="one_decision_per_approver"),
            models.CheckConstraint(condition=~Q(approver=models.F("requester")), name="no_self_approval"),
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.get_decision_display().lower()} {self.request.code}"


class Transition(models.Model):
    """A status change of a request: who, when, from what to what, and why."""

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=RequestStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=RequestStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.request.code}: {self.from_status or 'new'} → {self.to_status}"


class SecretReveal(models.Model):
    """A moment the holder of a check-out displayed the root password from the portal."""

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="reveals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    http_request_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user} revealed the password of {self.request.code}"


class NotificationChannel(TimeStamped):
    """Where an account's break-glass events are announced besides the people's own email.

    A channel without an account is the security team's: it hears every account's emergencies and
    revocations (and, later, alerts for accounts the inventory does not know).
    """

    account = models.ForeignKey(
        AwsAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="notification_channels"
    )
    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    name = models.CharField(max_length=100)
    # Email addresses (comma-separated) for EMAIL; the URL for SLACK and WEBHOOK. Sealed at rest: a
    # Slack incoming-webhook URL embeds the token that lets anyone post (the form caps it at 500).
    target = SealedTextField(purpose=CHANNEL_TARGET_PURPOSE)
    # HMAC key for WEBHOOK, sealed like root passwords (breakglass.secrets); never shown again.
    signing_secret = models.BinaryField(null=True, blank=True, editable=False)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class Notification(TimeStamped):
    """One message to one recipient (a person's email or a channel), written in the transaction of
    the change that caused it and sent by Celery after commit (an outbox: a rolled-back change
    leaves no notification behind, and a committed one is never lost)."""

    request = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(max_length=50)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.ForeignKey(
        NotificationChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    subject = models.CharField(max_length=300)
    body = models.TextField()
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Read by the outbox sweep, breakglass.notifications.outbox.stale_notifications
            # (status QUEUED, updated_at before a cutoff). Partial: sent and failed rows, nearly the
            # whole table, are never swept, so they stay out of the index.
            models.Index(
                fields=["updated_at"],
                name="notification_to_send_idx",
                condition=Q(status=DeliveryStatus.QUEUED),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.recipient or self.channel}"


# Access reviews live in their own module (this one is long enough); imported here so that Django
# registers them with the app and ``from breakglass.models import ReviewItem`` works.
# Drills and approver reachability checks, likewise (breakglass.drills, breakglass.reachability).
from breakglass.drill_models import Drill as Drill  # noqa: E402
from breakglass.drill_models import ReachabilityCheck as ReachabilityCheck  # noqa: E402
from breakglass.people_models import PersonProfile as PersonProfile  # noqa: E402
from breakglass.review_models import ReviewCampaign as ReviewCampaign  # noqa: E402
from breakglass.review_models import ReviewItem as ReviewItem  # noqa: E402
from breakglass.task_run_models import RootTaskRun as RootTaskRun  # noqa: E402
