"""Retention of ingestion runs: finished runs go after ``PORTAL_RETENTION_RUN_DAYS``.

A run is operational (what a source read, how many records, which files were rejected; its per-file
problems live in the row's own ``errors``), while the root events it stored are evidence and stay:
no evidence row points at a run. Kept whatever their age: runs still queued or running, and runs a
ledger entry names as its target (an upload's ``logs.uploaded`` / ``logs.ingested``), so every
entry's link keeps its object. See ``ledger.retention``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from audits.choices import RunStatus
from audits.models import IngestionRun
from ledger.models import LedgerEntry
from ledger.retention import PurgeOutcome, purge_in_batches

FINISHED = (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED)


def run_cutoff(now: datetime | None = None) -> datetime:
    """Runs started before this moment may be purged."""
    return (now or timezone.now()) - timedelta(days=settings.PORTAL_RETENTION_RUN_DAYS)


def purgeable_runs(cutoff: datetime) -> QuerySet[IngestionRun]:
    """Finished runs started before ``cutoff`` that no ledger entry targets."""
    named_by_ledger = LedgerEntry.objects.filter(
        target_type=IngestionRun._meta.label,
        target_id=Cast(OuterRef("uuid"), output_field=CharField()),
    )
    return IngestionRun.objects.filter(status__in=FINISHED, started_at__lt=cutoff).exclude(
        Exists(named_by_ledger)
    )


def runs_purge(*, dry_run: bool = False, now: datetime | None = None) -> PurgeOutcome:
    """Purge finished, unreferenced ingestion runs older than the retention period, in ledgered batches."""
    cutoff = run_cutoff(now)
    return purge_in_batches(candidates=purgeable_runs(cutoff), cutoff=cutoff, dry_run=dry_run)
