"""Celery tasks of the evidence side: thin wrappers over services that own only retries and fan-out.

Ingestion fans out as one task per unit of a source (an account/region prefix of an organization
trail, a region of LookupEvents, a queue, a folder), so adding workers adds throughput; the unit's
lock in ``audits.ingest.ingest_unit`` keeps two workers off one unit. Beat runs
``ingest_enabled_sources`` every minute (each source on its own ``schedule_seconds``) and
``reconcile_all`` every five minutes, because overdue, rotation and emergency findings become true
with the mere passing of time, and ``sweep_stale_runs`` every five minutes, so a run whose worker died
ends *failed* instead of *running* forever. ``ingest_upload`` ingests a file uploaded through the page,
never inside the web request.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from audits import drill_findings, export_jobs, retention, securityhub, uploads
from audits.choices import SyncStatus, SyncTrigger
from audits.ingest import ingest_unit
from audits.ingest import sweep_stale_runs as sweep_runs
from audits.models import IngestionSource, OrganizationSync
from audits.organization import service as organization
from audits.reconcile import reconcile
from audits.reconcile import service as reconcile_service
from audits.sources.registry import SourceNotAvailable, build_source

logger = logging.getLogger(__name__)

#: Retries of one unit after an unexpected failure (AWS throttling beyond botocore's own retries, a
#: database restart...). The cursor only moves after stored data, so a retry resumes where it stopped.
UNIT_MAX_RETRIES = 5
UNIT_BACKOFF_MAX_SECONDS = 600
#: How often beat runs ``ingest_enabled_sources`` (``portal.celery``): often, so a queue source with a
#: short schedule alerts within seconds. A source counts as due half a tick early, so a five-minute
#: schedule runs every five minutes and not every five and a bit.
SCHEDULE_TICK_SECONDS = 10.0
SCHEDULE_SLACK = timedelta(seconds=SCHEDULE_TICK_SECONDS / 2)


@shared_task(
    name="audits.tasks.ingest_source",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=UNIT_BACKOFF_MAX_SECONDS,
    retry_jitter=True,
    max_retries=UNIT_MAX_RETRIES,
)
def ingest_source(source_id: int) -> int:
    """Queue one ``ingest_unit_task`` per unit of an enabled source; returns how many.

    Listing the units may itself call AWS (an organization trail's accounts and regions), hence the
    retries. A source that was disabled or deleted since it was queued is left alone.
    """
    source = IngestionSource.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return 0
    try:
        units = build_source(kind=source.kind, config=source.config).units()
    except SourceNotAvailable:
        # Retrying cannot install an adapter: say so once and stop.
        logger.exception("source %s (%s) cannot be read", source.name, source.kind)
        return 0
    for unit in units:
        ingest_unit_task.delay(source_id, unit)
    return len(units)


@shared_task(
    name="audits.tasks.ingest_unit",
    bind=True,
    acks_late=True,
    # A worker killed mid-read must give the unit back: the cursor makes the second read resume.
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=UNIT_BACKOFF_MAX_SECONDS,
    retry_jitter=True,
    max_retries=UNIT_MAX_RETRIES,
)
def ingest_unit_task(self: Any, source_id: int, unit: str) -> str | None:
    """Read one unit of a source from its cursor; the run's uuid, or None when there was nothing to do
    (source gone or disabled, or another worker reading the unit right now)."""
    source = IngestionSource.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return None
    try:
        run = ingest_unit(source=source, unit=unit)
    except SourceNotAvailable:
        logger.exception("source %s (%s) cannot be read", source.name, source.kind)
        return None
    return str(run.uuid) if run is not None else None


@shared_task(
    name="audits.tasks.reconcile_accounts",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def reconcile_accounts(account_ids: list[str] | None = None) -> int:
    """Reconcile these AWS accounts (all when None); returns the number of findings raised."""
    return reconcile(account_ids=account_ids)


@shared_task(name="audits.tasks.reconcile_all", acks_late=True)
def reconcile_all() -> int:
    """Every five minutes (beat): time alone makes check-outs overdue and rotations late."""
    return reconcile(account_ids=None)


@shared_task(name="audits.tasks.reconcile_unacknowledged_emergencies", acks_late=True)
def reconcile_unacknowledged_emergencies() -> list[str]:
    """Every minute (beat): an emergency nobody acknowledged in time is a critical finding at once."""
    return reconcile_service.reconcile_unacknowledged_emergencies()


@shared_task(name="audits.tasks.drill_events_missing", acks_late=True)
def drill_events_missing() -> list[str]:
    """Every five minutes (beat): a drill whose root sign-in never arrived is a critical finding."""
    return [finding.code for finding in drill_findings.drill_events_missing()]


def _queued_key(source_id: int) -> str:
    return f"audits:ingest-queued:{source_id}"


@shared_task(name="audits.tasks.ingest_enabled_sources", acks_late=True)
def ingest_enabled_sources() -> list[int]:
    """Every ten seconds (beat): queue ``ingest_source`` for each enabled source that is due.

    A source is due when no run of it started within its ``schedule_seconds``. The cache remembers
    when a source was queued, so a backlog of workers (queued, nothing started yet) does not make
    the next tick queue it again; with a per-process cache that guard is only local, and the unit
    lock still keeps duplicates harmless.
    """
    now = timezone.now()
    sources = IngestionSource.objects.filter(enabled=True).annotate(last_run=Max("runs__started_at"))
    queued: list[int] = []
    for source in sources.order_by("pk"):
        period = timedelta(seconds=source.schedule_seconds) - SCHEDULE_SLACK
        last_run = getattr(source, "last_run", None)
        if last_run is not None and now - last_run < period:
            continue
        # ``add`` is atomic where the cache is shared (Redis): one beat tick queues a source once.
        guard = max(int(period.total_seconds()), 1)
        if not cache.add(_queued_key(source.pk), now.isoformat(), timeout=guard):
            continue
        ingest_source.delay(source.pk)
        queued.append(source.pk)
    return queued


@shared_task(name="audits.tasks.ingest_upload", acks_late=True)
def ingest_upload(run_id: int) -> str | None:
    """Ingest an uploaded file (queued by ``audits.uploads.logs_upload`` once the upload committed).

    No automatic retry: the run is claimed when the task starts, and a worker killed half-way leaves it
    running for the sweep to mark failed; the person uploads again (storing is idempotent).
    """
    run = uploads.ingest_upload(run_id)
    return str(run.uuid) if run is not None else None


@shared_task(name="audits.tasks.sweep_stale_runs", acks_late=True)
def sweep_stale_runs() -> int:
    """Every five minutes (beat): runs without progress for ``PORTAL_INGEST_STALE_MINUTES`` are marked
    failed (their worker died), and uploaded files nobody will ingest are removed; organization syncs
    left queued or running that long likewise."""
    swept = sweep_runs()
    uploads.discard_orphan_uploads()
    organization.organization_syncs_sweep_stale()
    return swept


@shared_task(name="audits.tasks.purge_old_ingestion_runs", acks_late=True)
def purge_old_ingestion_runs() -> int:
    """Daily (beat): finished ingestion runs past PORTAL_RETENTION_RUN_DAYS that no ledger entry names
    go, in ledgered batches; how many."""
    return retention.runs_purge().rows


@shared_task(
    name="audits.tasks.export_finding_to_security_hub",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def export_finding_to_security_hub(finding_pk: int) -> None:
    """Send one finding, as it is now, to Security Hub (``audits.securityhub``); retried on refusal."""
    securityhub.finding_export(finding_pk=finding_pk)


@shared_task(name="audits.tasks.export_pending_to_security_hub", acks_late=True)
def export_pending_to_security_hub() -> int:
    """Every 15 minutes (beat), when Security Hub is on: what a lost hand-over or a long outage left
    unsent is sent now. Returns how many were queued."""
    if not settings.PORTAL_SECURITY_HUB_ENABLED:
        return 0
    pending = securityhub.findings_to_export()
    for finding_pk in pending:
        securityhub.queue_export(finding_pk)
    return len(pending)


# --- Organization import -------------------------------------------------------------------------


@shared_task(name="audits.tasks.sync_organization")
def sync_organization() -> str | None:
    """Hourly (beat), once ``PORTAL_ORG_SYNC_ENABLED``: import the organization; returns the status."""
    if not settings.PORTAL_ORG_SYNC_ENABLED:
        return None
    return str(organization.organization_sync(trigger=SyncTrigger.SCHEDULE).status)


@shared_task(name=organization.SYNC_TASK)
def sync_organization_run(run_id: int) -> str | None:
    """An administrator's on-demand sync, queued from the organization page."""
    run = OrganizationSync.objects.filter(pk=run_id, status=SyncStatus.QUEUED).first()
    if run is None:
        return None  # already executed (a redelivered message) or gone
    return str(organization.organization_sync_execute(run=run).status)


#: Attempts of an export job after the first; the job page says each failure meanwhile.
EXPORT_MAX_RETRIES = 2
EXPORT_RETRY_SECONDS = 30


@shared_task(
    name="audits.tasks.run_export_job",
    bind=True,
    acks_late=True,
    # A worker killed mid-write gives the job back; the next attempt writes a new file from the start.
    reject_on_worker_lost=True,
    max_retries=EXPORT_MAX_RETRIES,
)
def run_export_job(self: Any, job_id: int) -> str | None:
    """Make an export job's file (queued by ``audits.export_jobs.export_job_start`` on commit)."""
    try:
        job = export_jobs.export_job_run(job_id)
    except Exception as error:
        final = self.request.retries >= self.max_retries
        logger.exception("export job %s failed (attempt %s)", job_id, self.request.retries + 1)
        export_jobs.export_job_failed(job_id=job_id, error=error, final=final)
        if final:
            return None
        raise self.retry(exc=error, countdown=EXPORT_RETRY_SECONDS * (self.request.retries + 1)) from error
    return str(job.uuid) if job is not None else None


@shared_task(name="audits.tasks.purge_expired_exports", acks_late=True)
def purge_expired_exports() -> int:
    """Hourly (beat): export files past PORTAL_EXPORT_KEEP_HOURS go, each a ledger entry."""
    return export_jobs.export_jobs_purge()
