"""Large exports made by a worker: a report as PDF (or as CSV/JSON over the streaming limit, or on
request) and evidence bundles. Every write about them is here.

:func:`export_job_start` (the web request) checks the report, creates the job and its ledger entry
(``report.exported`` or ``evidence.bundle_requested``: the export is recorded before a byte is
made) in one transaction, and queues the task once that commits. :func:`export_job_run` (the task
``audits.tasks.run_export_job``) claims the job, writes the file beside its final name and renames
it only once complete, then marks the job done with the file's SHA-256 and size (ledger
``export.made``): a failed or killed attempt never leaves a half-written file marked done. The task
retries; :func:`export_job_failed` records each failure, the last one in the ledger.
:func:`export_job_download` records ``export.downloaded`` before the file is handed over, and
:func:`export_jobs_purge` (beat, hourly) removes files ``PORTAL_EXPORT_KEEP_HOURS`` after they were
made (``export.expired``), fails jobs no worker finished within that time, and removes any file no job
names.

Files live in ``PORTAL_EXPORT_DIR`` under a random name the portal chose; the download's file name
is made from the report and date, never from the stored name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audits.choices import ExportJobStatus
from audits.evidence.bundle import BUNDLE_MEMBERS, write_bundle
from audits.models import ExportJob
from audits.reports import ReportFilter
from audits.reports.base import Row
from audits.reports.export import check_filters, check_format, report_exported, report_named, write_pdf
from audits.reports.formats import csv_pieces, json_pieces
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

#: The task that runs a job (``audits.tasks``), named so this module needs no import of it.
EXPORT_JOB_TASK = "audits.tasks.run_export_job"
#: The ``report`` of an evidence bundle job; its format is ``zip``.
EVIDENCE = "evidence"
#: Progress is saved at most this often (rows), so a big CSV does not write its job row per row.
PROGRESS_EVERY_ROWS = 2_000
_TARGET = "export_job"
_FILE_CHUNK = 1 << 20


def export_dir() -> Path:
    return Path(settings.PORTAL_EXPORT_DIR)


def job_file(job: ExportJob) -> Path | None:
    """Where a done job's file is; None before it is done (the name is set when it is)."""
    return export_dir() / job.file_name if job.file_name else None


def download_name(job: ExportJob) -> str:
    return f"{job.report}-{job.created_at:%Y%m%dT%H%M%SZ}.{job.format}"


def filters_from_dict(data: dict[str, Any]) -> ReportFilter:
    """A job's filters back from ``ReportFilter.as_dict()`` (unknown keys ignored)."""
    values: dict[str, Any] = {}
    for name in ReportFilter.__dataclass_fields__:
        raw = data.get(name)
        if raw in (None, ""):
            continue
        values[name] = parse_datetime(str(raw)) if name in ("since", "until") else str(raw)
    return ReportFilter(**values)


def _ledger_job(job: ExportJob, action: str, data: dict[str, Any], actor: User | None) -> None:
    ledger.record(
        actor=actor,
        action=action,
        target_type=_TARGET,
        target_id=str(job.uuid),
        target_repr=f"{job.report} export ({job.format})",
        data={"report": job.report, "format": job.format, **data},
    )


def export_job_start(*, user: User, report: str, fmt: str, filters: ReportFilter) -> ExportJob:
    """Create a *queued* job and record the export (one transaction); the worker starts once it commits."""
    if not policy.may_export_reports(user):
        raise DomainError("Only auditors and administrators can export reports.")
    total: int | None
    if report == EVIDENCE:
        if fmt != "zip":
            raise DomainError("An evidence bundle is a zip.")
        if filters.since is None or filters.until is None:
            raise DomainError("An evidence bundle covers a period with both ends.")
        total = BUNDLE_MEMBERS
    else:
        chosen = report_named(report)
        check_format(fmt)
        check_filters(chosen, filters)
        total = chosen.count(user=user, filters=filters)
    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=user, report=report, format=fmt, filters=filters.as_dict(), progress_total=total
        )
        if report == EVIDENCE:
            _ledger_job(job, "evidence.bundle_requested", {"filters": filters.as_dict()}, user)
        else:
            report_exported(
                user=user,
                report=report_named(report),
                fmt=fmt,
                filters=filters,
                count=total,
                job=str(job.uuid),
            )
        # robust: a broker that is down leaves the job queued (its page says so, the hourly purge ends
        # it failed) instead of turning the committed request into an error page.
        transaction.on_commit(
            lambda: current_app.signature(EXPORT_JOB_TASK, args=(job.pk,)).apply_async(), robust=True
        )
    return job


def _claim(job_id: int) -> ExportJob | None:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        # A job redelivered after its worker died is still *running*: it may be claimed again.
        if job is None or job.status not in (ExportJobStatus.QUEUED, ExportJobStatus.RUNNING):
            return None
        job.status = ExportJobStatus.RUNNING
        job.attempts += 1
        job.started_at = timezone.now()
        job.progress_done = 0
        job.save(update_fields=["status", "attempts", "started_at", "progress_done", "updated_at"])
    return job


def _progress(job: ExportJob) -> Callable[[int], None]:
    def saved(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(progress_done=done, updated_at=timezone.now())

    return saved


def _counted(rows: Iterable[Row], on_rows: Callable[[int], None]) -> Iterator[Row]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % PROGRESS_EVERY_ROWS == 0:
            on_rows(done)
    on_rows(done)


def _produce(job: ExportJob, stream: IO[bytes]) -> None:
    """Write the job's export into ``stream`` as the person who asked for it."""
    user = job.requested_by
    filters = filters_from_dict(job.filters)
    on_progress = _progress(job)
    if job.report == EVIDENCE:
        write_bundle(stream, user=user, filters=filters, on_member=on_progress)
        return
    report = report_named(job.report)
    if job.format == "pdf":
        write_pdf(
            stream, user=user, report=report, filters=filters, count=job.progress_total, on_rows=on_progress
        )
        return
    rows = _counted(report.rows(user=user, filters=filters), on_progress)
    pieces = csv_pieces(report.columns, rows) if job.format == "csv" else json_pieces(rows)
    for piece in pieces:
        stream.write(piece.encode("utf-8"))


def _digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_FILE_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def export_job_run(job_id: int) -> ExportJob | None:
    """Make the job's file; the job, done, or None when there was nothing to do (gone, finished).

    Raises whatever the export raised, with the half-written file removed; the task retries.
    """
    job = _claim(job_id)
    if job is None:
        return None
    folder = export_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(24)}.{job.format}"
    final = folder / name
    part_file = folder / f".{name}.part"
    try:
        with part_file.open("xb") as stream:
            _produce(job, stream)
        sha256, size = _digest(part_file)
        os.replace(part_file, final)
    except BaseException:
        part_file.unlink(missing_ok=True)
        raise
    now = timezone.now()
    try:
        with transaction.atomic():
            job = ExportJob.objects.select_for_update().get(pk=job.pk)
            job.status = ExportJobStatus.DONE
            job.file_name = name
            job.sha256 = sha256
            job.size = size
            job.error = ""
            job.finished_at = now
            job.expires_at = now + timedelta(hours=settings.PORTAL_EXPORT_KEEP_HOURS)
            if job.report == EVIDENCE:
                job.progress_done = job.progress_total or job.progress_done
            job.save()
            _ledger_job(job, "export.made", {"sha256": sha256, "size": size}, None)
    except BaseException:
        # Not recorded as done: the file must not outlive the failure.
        final.unlink(missing_ok=True)
        raise
    return job


def export_job_failed(*, job_id: int, error: BaseException, final: bool) -> None:
    """Record a failed attempt: queued again for the retry, or *failed* (ledger) after the last.

    The person sees the kind of error and the attempt, never its text (which may hold paths or SQL);
    the log has the whole exception.
    """
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in (ExportJobStatus.QUEUED, ExportJobStatus.RUNNING):
            return
        kind = type(error).__name__
        if final:
            job.status = ExportJobStatus.FAILED
            job.finished_at = timezone.now()
            job.error = (
                f"The export failed ({kind}) after {job.attempts} attempt(s). Start it again, or ask "
                "an administrator to look at the worker's log."
            )
            _ledger_job(job, "export.failed", {"error": kind, "attempts": job.attempts}, None)
        else:
            job.status = ExportJobStatus.QUEUED
            job.error = f"Attempt {job.attempts} failed ({kind}); it will be tried again."
        job.save()


def export_job_download(*, user: User, job: ExportJob) -> IO[bytes]:
    """The job's file, open, once the download is in the ledger; only its requester may have it."""
    if job.requested_by_id != user.pk or not policy.may_export_reports(user):
        raise DomainError("Only the person who started an export may download it.")
    path = job_file(job)
    if job.status != ExportJobStatus.DONE or path is None:
        raise DomainError("This export is not ready, or has expired.")
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        raise DomainError("This export's file is gone; start the export again.") from None
    try:
        with transaction.atomic():
            _ledger_job(job, "export.downloaded", {"sha256": job.sha256, "size": job.size}, user)
    except BaseException:
        stream.close()
        raise
    return stream


def export_jobs_purge(*, now: datetime | None = None) -> int:
    """Remove the files of jobs past ``expires_at`` (each an ``export.expired`` entry), then any file
    in the folder that no done job names and that is older than the keep period (a rename whose
    job could not be saved, a worker killed mid-write). Returns how many jobs expired."""
    now = now or timezone.now()
    expired = 0
    due = ExportJob.objects.filter(status=ExportJobStatus.DONE, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    for job_id in list(due.iterator(chunk_size=500)):
        with transaction.atomic():
            job = ExportJob.objects.select_for_update().get(pk=job_id)
            if job.status != ExportJobStatus.DONE:
                continue
            path = job_file(job)
            job.status = ExportJobStatus.EXPIRED
            job.file_name = ""
            job.save(update_fields=["status", "file_name", "updated_at"])
            _ledger_job(
                job,
                "export.expired",
                {"sha256": job.sha256, "made": job.finished_at.isoformat() if job.finished_at else None},
                None,
            )
            if path is not None:
                # Removed once the expiry is recorded: a failed commit keeps a file still named.
                transaction.on_commit(partial(path.unlink, missing_ok=True))
        expired += 1
    _fail_abandoned(now)
    _discard_orphans(now)
    return expired


def _fail_abandoned(now: datetime) -> None:
    """Jobs queued or running without progress for the keep period lost their task (no worker, a
    broker that dropped it): they end *failed*, so their page stops waiting."""
    cutoff = now - timedelta(hours=settings.PORTAL_EXPORT_KEEP_HOURS)
    stale = ExportJob.objects.filter(
        status__in=(ExportJobStatus.QUEUED, ExportJobStatus.RUNNING), updated_at__lt=cutoff
    ).values_list("pk", flat=True)
    for job_id in list(stale.iterator(chunk_size=500)):
        export_job_failed(job_id=job_id, error=TimeoutError("no worker finished it"), final=True)


def _discard_orphans(now: datetime) -> None:
    folder = export_dir()
    if not folder.is_dir():
        return
    named = set(ExportJob.objects.filter(status=ExportJobStatus.DONE).values_list("file_name", flat=True))
    cutoff = (now - timedelta(hours=settings.PORTAL_EXPORT_KEEP_HOURS)).timestamp()
    for path in folder.iterdir():
        if path.is_file() and path.name not in named and path.stat().st_mtime < cutoff:
            logger.warning("removing export file %s that no export job names", path.name)
            path.unlink(missing_ok=True)
