"""What the portal keeps about its own ``sts:AssumeRoot`` calls (registered with the ``audits`` app
through ``audits/models.py``).

``IssuedRootKey`` is written *before* the credentials are used, so every member-account record made
with the key can be matched to the portal's purpose; a key not in this table is unbrokered.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from portal.models import TimeStamped


class IssuedRootKeyPurpose(models.TextChoices):
    SESSION = "session", "Break-glass request"
    POSTURE = "posture", "Posture audit"


class IssuedRootKey(TimeStamped):
    """One set of AssumeRoot credentials the portal itself obtained. The access key id is not a
    secret (CloudTrail shows it); the secret and token are never stored."""

    access_key_id = models.CharField(max_length=128, unique=True)
    account_id = models.CharField(max_length=12, db_index=True)
    task_policy_arn = models.CharField(max_length=300)
    task_code = models.CharField(max_length=60, blank=True)
    purpose = models.CharField(max_length=20, choices=IssuedRootKeyPurpose.choices)
    # The request's reference (``BG-…``) or the posture audit run's id.
    reference = models.CharField(max_length=100, blank=True, db_index=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"AssumeRoot key {self.access_key_id} on {self.account_id} ({self.purpose})"


class RootAuditRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class RootAuditRun(TimeStamped):
    """An audit of every centralised account's root credentials (``IAMAuditRootUserCredentials``),
    one account after another at a bounded rate; its results feed the posture checks."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="root_audit_runs",
    )
    status = models.CharField(
        max_length=10, choices=RootAuditRunStatus.choices, default=RootAuditRunStatus.QUEUED
    )
    accounts_total = models.PositiveIntegerField(default=0)
    accounts_done = models.PositiveIntegerField(default=0)
    accounts_failed = models.PositiveIntegerField(default=0)
    # One line per account: {"account_id", "name", "ok", "error", "failing"}; no secret.
    results = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Root credentials audit {self.reference} ({self.status})"

    @property
    def reference(self) -> str:
        """What the run's issued keys name as their reference (``IssuedRootKey.reference``)."""
        return f"audit-{self.uuid}"
