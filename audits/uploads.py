"""Uploaded CloudTrail log files: accepted and stored by the web request, ingested by a Celery task.

The web request never reads the file (a small gzip can hold millions of records): :func:`logs_upload`
streams it to the upload folder (``PORTAL_UPLOAD_DIR``, shared by the web and worker processes), and
in one transaction creates the run (*queued*) and the ledger entry ``logs.uploaded`` (name, size,
SHA-256); the task is queued once that commits. :func:`ingest_upload` (the task
``audits.tasks.ingest_upload``) claims the run, ingests the file through the files adapter, writes
``logs.ingested`` in the transaction that saves the run's outcome, and removes the file: the evidence
kept is the stored root events and the digest. The run page shows the progress meanwhile.

Kept apart from ``audits.services`` (triage) because it owns the uploaded files, and from
``audits.ingest`` because that module knows nothing of HTTP uploads.
"""

from __future__ import annotations

import hashlib
import logging
import time
from functools import partial
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audits.choices import RunStatus, SourceKind
from audits.ingest import ingest_paths
from audits.models import IngestionRun
from audits.store import add_errors
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import UploadedFile

logger = logging.getLogger(__name__)

#: The task that ingests an upload (``audits.tasks``), named so this module needs no import of it.
INGEST_UPLOAD_TASK = "audits.tasks.ingest_upload"


def display_name(uploaded: UploadedFile) -> str:
    """The file's own name without any folders the browser sent, for the run page and the ledger."""
    # Browsers send a bare name, but a hand-made request may send a path (even a Windows one).
    name = PurePath(str(uploaded.name or "").replace("\\", "/")).name
    return name[:200] or "uploaded file"


def upload_path(run: IngestionRun) -> Path:
    """Where the upload of ``run`` waits for its worker: named by the portal (the run's uuid), never by
    the client, so no path from outside reaches the file system."""
    return Path(settings.PORTAL_UPLOAD_DIR) / f"{run.uuid}.upload"


def logs_upload(*, actor: User, uploaded: UploadedFile) -> IngestionRun:
    """Store the upload, create its *queued* run and the ``logs.uploaded`` ledger entry (one
    transaction), and queue its ingestion once that commits. Nothing is read here."""
    if not policy.may_upload_logs(actor):
        raise DomainError("Only auditors and administrators can upload CloudTrail logs.")
    name = display_name(uploaded)
    run = IngestionRun(kind=SourceKind.UPLOAD, unit=name, triggered_by=actor, status=RunStatus.QUEUED)
    path = upload_path(run)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial_path = path.with_suffix(".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with partial_path.open("xb") as out:
            for block in uploaded.chunks():
                digest.update(block)
                size += len(block)
                out.write(block)
        with transaction.atomic():
            run.save()
            ledger.record(
                actor=actor,
                action="logs.uploaded",
                target=run,
                data={"file": name, "bytes": size, "sha256": digest.hexdigest()},
            )
            partial_path.rename(path)
            # After commit only: a worker must find the run; a broker that is down leaves it queued
            # until the sweep marks it failed.
            transaction.on_commit(partial(_hand_to_worker, run.pk), robust=True)
    except BaseException:
        partial_path.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        raise
    return run


def _hand_to_worker(run_id: int) -> None:
    # A signature runs in place when ``task_always_eager`` is set (tests, development without a
    # worker) and otherwise sends the task's name to the broker.
    try:
        current_app.signature(INGEST_UPLOAD_TASK, args=(run_id,)).apply_async()
    except Exception as error:
        # Only the class name: a broker error's text may name the broker URL and its password.
        logger.warning("could not queue the ingestion of upload run %s (%s)", run_id, type(error).__name__)


def ingest_upload(run_id: int) -> IngestionRun | None:
    """Ingest a queued upload (the task); None when the run is not queued any more (another delivery of
    the task took it, or the sweep failed it). The file is removed afterwards, whatever happened."""
    # Claim the run: of two deliveries of the same task, only one moves it from queued to running.
    claimed = IngestionRun.objects.filter(pk=run_id, kind=SourceKind.UPLOAD, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return None
    run = IngestionRun.objects.get(pk=run_id)
    path = upload_path(run)
    if not path.exists():
        add_errors(run, [{"file": run.unit, "reason": "the uploaded file is gone from the upload folder"}])
        with transaction.atomic():
            run.status = RunStatus.FAILED
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "finished_at", "errors", "updated_at"])
            _record_ingested(run)
        return run
    try:
        return ingest_paths(paths=[path], run=run, names={path: run.unit}, on_finish=_record_ingested)
    finally:
        path.unlink(missing_ok=True)


def _record_ingested(run: IngestionRun) -> None:
    """The ingestion's ledger entry, in the transaction that saves the run's outcome."""
    ledger.record(
        actor=run.triggered_by,
        action="logs.ingested",
        target=run,
        data={
            "file": run.unit,
            "status": run.status,
            "records_read": run.records_read,
            "root_records": run.root_records,
            "findings_raised": run.findings_raised,
            "files_rejected": run.files_rejected,
        },
    )


def discard_orphan_uploads() -> int:
    """Remove uploaded files whose run is no longer waiting or running (swept after its worker died,
    or never committed); how many. Run by the sweep."""
    folder = Path(settings.PORTAL_UPLOAD_DIR)
    if not folder.is_dir():
        return 0
    waiting = {
        str(value)
        for value in IngestionRun.objects.filter(
            kind=SourceKind.UPLOAD, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
        ).values_list("uuid", flat=True)
    }
    # A file younger than the stale period may belong to an upload whose transaction has not committed.
    cutoff = time.time() - settings.PORTAL_INGEST_STALE_MINUTES * 60
    removed = 0
    for path in folder.glob("*.upload"):
        if path.stem not in waiting and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
