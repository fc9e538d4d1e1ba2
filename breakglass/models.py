"""Inventory of root credentials: accounts, where the password lives, MFA devices, grants."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from breakglass.choices import (
    CredentialStorage,
    CustodyState,
    Environment,
    GovernanceMode,
    MfaDeviceKind,
)

account_id_validator = RegexValidator(
    r"^\d{12}$", "An AWS account id is exactly 12 digits, for example 123456789012."
)


class TimeStamped(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


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
