"""Models of the evidence side: CloudTrail sources, runs, root events, AssumeRoot calls and findings.

The audit ledger has its own app, ``ledger``."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from audits.choices import (
    ExportJobStatus,
    FindingKind,
    FindingStatus,
    OrganizationChangeKind,
    RunStatus,
    Severity,
    SourceKind,
    SyncStatus,
    SyncTrigger,
)
from portal.models import TimeStamped


class IngestionSource(TimeStamped):
    """A configured place CloudTrail records come from, read by Celery beat on its schedule.

    ``config`` holds the adapter's settings (bucket, prefix, organization id, regions, accounts,
    queue URL, role to assume); never credentials: boto3 takes those from its usual chain.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    config = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    schedule_seconds = models.PositiveIntegerField(default=300)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class IngestionCursor(models.Model):
    """How far a source has been read for one unit of work (an account/region prefix, a region).

    Advanced in the same transaction that stores the records it covers, so a run killed half-way
    resumes exactly where the stored data ends. Locking the row keeps two workers off one unit.
    """

    source = models.ForeignKey(IngestionSource, on_delete=models.CASCADE, related_name="cursors")
    unit = models.CharField(max_length=500)
    position = models.CharField(max_length=1024, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "unit"], name="one_cursor_per_unit")]

    def __str__(self) -> str:
        return f"{self.source.name}:{self.unit} at {self.position or 'start'}"


class IngestionRun(TimeStamped):
    """One ingestion (a beat-scheduled unit, a command, an upload): what was read and what went wrong."""

    source = models.ForeignKey(
        IngestionSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    unit = models.CharField(max_length=500, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    files_read = models.PositiveIntegerField(default=0)
    files_rejected = models.PositiveIntegerField(default=0)
    records_read = models.PositiveBigIntegerField(default=0)
    root_records = models.PositiveIntegerField(default=0)
    findings_raised = models.PositiveIntegerField(default=0)
    # [{"file": "...", "reason": "..."}]: names and reasons only, never record contents.
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        # The runs page's order (newest first, id breaks ties): 44 ms -> 0.1 ms at 5,000 accounts.
        indexes = [models.Index(models.F("started_at").desc(), models.F("id").desc(), name="run_newest")]

    def __str__(self) -> str:
        return f"run {self.uuid} ({self.get_kind_display()}, {self.status})"


class RootEvent(TimeStamped):
    """A CloudTrail record made by a root user (``userIdentity.type == "Root"``), stored once.

    Keyed by ``eventID`` and account: logs repeat records, and some sources reuse ids across
    accounts. ``session`` is the check-out whose window holds the event, set by reconciliation.
    """

    event_id = models.CharField(max_length=128)
    event_id_is_digest = models.BooleanField(default=False)
    aws_account_id = models.CharField(max_length=12, db_index=True)
    region = models.CharField(max_length=30, blank=True)
    event_time = models.DateTimeField(db_index=True)
    event_name = models.CharField(max_length=128)
    event_source = models.CharField(max_length=128)
    event_type = models.CharField(max_length=40, blank=True)
    is_service_event = models.BooleanField(default=False)
    mfa_used = models.BooleanField(null=True)
    login_success = models.BooleanField(null=True)
    succeeded = models.BooleanField(default=True)
    access_key_id = models.CharField(max_length=128, blank=True, db_index=True)
    source_ip = models.CharField(max_length=100, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    # Finding kinds this record implies on its own (audits.cloudtrail.classify).
    record_finding_kinds = models.JSONField(default=list, blank=True)
    # Who called sts:AssumeRoot for the credentials this event used, when it used them.
    assume_root_caller = models.CharField(max_length=2048, blank=True)
    # Made with AssumeRoot credentials (userIdentity.sessionContext.assumedRoot == "true"), known even
    # before the management account's AssumeRoot record arrives.
    # db_default: rows written by COPY (the benchmarks' generator) that name no value get False too.
    via_assume_root = models.BooleanField(default=False, db_default=False)
    session = models.ForeignKey(
        "breakglass.AccessRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="root_events",
    )
    in_scope = models.BooleanField(null=True)
    raw = models.JSONField()

    class Meta:
        ordering = ["event_time", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "aws_account_id"], name="root_event_once_per_account")
        ]
        indexes = [
            models.Index(fields=["aws_account_id", "event_time"]),
            # The API's root-event list pages newest first by keyset (a million rows in issue 13).
            models.Index(models.F("event_time").desc(), models.F("id").desc(), name="root_event_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.event_name} by root in {self.aws_account_id} at {self.event_time:%Y-%m-%d %H:%M:%S}"


class AssumeRootCall(TimeStamped):
    """An ``sts:AssumeRoot`` call in the management account: who asked for root credentials of which
    member account, for which task. Its access key id ties the member account's Root events to the
    person (the only link there is)."""

    event_id = models.CharField(max_length=128, unique=True)
    management_account_id = models.CharField(max_length=12)
    caller_arn = models.CharField(max_length=2048)
    target_account_id = models.CharField(max_length=12, db_index=True)
    task_policy_arn = models.CharField(max_length=300)
    access_key_id = models.CharField(max_length=128, blank=True, db_index=True)
    event_time = models.DateTimeField()
    raw = models.JSONField()
    # The session the portal made this call for (its key is the session's ``IssuedRootKey``), set by
    # reconciliation; null for a call the portal did not make for a session (posture, or unbrokered).
    session = models.ForeignKey(
        "breakglass.AccessRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assume_root_calls",
    )

    class Meta:
        ordering = ["event_time"]

    def __str__(self) -> str:
        return f"AssumeRoot {self.task_policy_arn.rsplit('/', 1)[-1]} on {self.target_account_id}"


class Finding(TimeStamped):
    """Something an auditor must see: root used without approval, a sign-in without MFA, a
    check-out overdue. ``dedupe_key`` is stable, so re-running reconciliation never duplicates."""

    code = models.CharField(max_length=20, unique=True, editable=False)
    kind = models.CharField(max_length=60, choices=FindingKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    dedupe_key = models.CharField(max_length=300, unique=True)
    aws_account_id = models.CharField(max_length=12, db_index=True)
    # Null when the account is not in the inventory (itself a reason to look).
    account = models.ForeignKey(
        "breakglass.AwsAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="findings"
    )
    session = models.ForeignKey(
        "breakglass.AccessRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="findings"
    )
    events = models.ManyToManyField(RootEvent, blank=True, related_name="findings")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    summary = models.TextField()
    alerted_at = models.DateTimeField(null=True, blank=True)
    triage_note = models.TextField(blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    # When the finding, as it then was, reached AWS Security Hub, and its last refusal (securityhub.py).
    security_hub_exported_at = models.DateTimeField(null=True, blank=True, editable=False)
    security_hub_error = models.CharField(max_length=500, blank=True, editable=False)

    class Meta:
        ordering = ["-last_seen"]
        indexes = [
            models.Index(fields=["status", "severity"]),
            models.Index(fields=["kind", "last_seen"]),
            # The findings page's order, unfiltered and by severity (issue 13's EXPLAIN: a sequential
            # scan and sort of 100,000 findings, 160 ms and 30 ms, became index scans under 1 ms).
            models.Index(models.F("last_seen").desc(), models.F("id").desc(), name="finding_newest"),
            models.Index(
                "severity",
                models.F("last_seen").desc(),
                models.F("id").desc(),
                name="finding_severity_newest",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.kind} in {self.aws_account_id}"


class OrganizationSync(TimeStamped):
    """One read of the AWS organization and what applying it changed in the inventory.

    A failed sync changed nothing (the read comes first, the apply is one transaction); ``reason`` says
    why it failed, in AWS's words (``AccessDeniedException: ...``), never a credential.
    """

    trigger = models.CharField(max_length=20, choices=SyncTrigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    organization_id = models.CharField(max_length=64, blank=True)
    management_account_id = models.CharField(max_length=12, blank=True)
    accounts_seen = models.PositiveIntegerField(default=0)
    changes_made = models.PositiveIntegerField(default=0)
    # iam:ListOrganizationsFeatures. None: could not be read (``features_reason`` says why).
    root_credentials_management = models.BooleanField(null=True)
    root_sessions = models.BooleanField(null=True)
    features_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"organization sync {self.uuid} ({self.status})"


class OrganizationChange(models.Model):
    """One change a sync made to one account: the page's row, beside the ledger entry it wrote."""

    sync = models.ForeignKey(OrganizationSync, on_delete=models.CASCADE, related_name="changes")
    # PROTECT: accounts are never deleted, and the change must keep pointing at its account.
    account = models.ForeignKey(
        "breakglass.AwsAccount", on_delete=models.PROTECT, related_name="organization_changes"
    )
    kind = models.CharField(max_length=30, choices=OrganizationChangeKind.choices)
    before = models.CharField(max_length=1000, blank=True)
    after = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.account_id} in {self.sync_id}"


class ExportJob(TimeStamped):
    """A large export made by a worker: a report as PDF (or CSV/JSON over the streaming limit), or an
    evidence bundle. Its file waits in ``PORTAL_EXPORT_DIR`` under an unguessable name until it
    expires; only the person who asked for it may download it (``audits.selectors.export_job_for``).
    """

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_jobs"
    )
    # A report's name (``audits.reports.REPORTS``) or ``evidence`` for a bundle.
    report = models.CharField(max_length=20)
    format = models.CharField(max_length=10)
    # The filters as ``ReportFilter.as_dict()`` wrote them (dates in ISO 8601).
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=ExportJobStatus.choices, default=ExportJobStatus.QUEUED)
    # Rows written so far and the expected total (files for a bundle); total unknown: null.
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # The file's name inside PORTAL_EXPORT_DIR, chosen by the portal (random), set when done.
    file_name = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.report} {self.format} export ({self.status})"


# The posture checks' results live with their package; imported here so Django registers the model.
# The AssumeRoot layer's models live with their package, registered here the same way.
from audits.assume_root.models import IssuedRootKey, RootAuditRun  # noqa: E402
from audits.posture.models import PostureResult  # noqa: E402

__all__ = [
    "AssumeRootCall",
    "ExportJob",
    "Finding",
    "IngestionCursor",
    "IngestionRun",
    "IngestionSource",
    "IssuedRootKey",
    "OrganizationChange",
    "OrganizationSync",
    "PostureResult",
    "RootAuditRun",
    "RootEvent",
]
