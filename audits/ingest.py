"""Ingestion runs: what the CloudTrail sources read is stored, unit by unit, then reconciled.

* :func:`ingest_chunks` stores a source's chunks one transaction each (``audits.store``), advancing
  the unit's cursor in the same transaction, so a run killed half-way resumes right after the last
  stored chunk;
* :func:`ingest_unit` reads one unit of a configured source (adapters: ``audits.sources.registry``),
  never two workers on one unit;
* :func:`ingest_paths` reads local files and folders (the command and the upload task) through the
  files adapter, the one walker of local files (``audits.sources.files``);
* :func:`sweep_stale_runs` marks failed the runs whose worker died (no progress for
  ``PORTAL_INGEST_STALE_MINUTES``): every stored chunk saves the run, so its ``updated_at`` is a heartbeat.

Every run ends by reconciling the accounts it touched (``audits.reconcile.reconcile``). Memory is bounded
whatever a file holds: root records come a batch at a time (``audits.cloudtrail.screen.BATCH_SIZE``),
each batch stored in its own transaction.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audits.choices import RunStatus, SourceKind
from audits.models import IngestionCursor, IngestionRun, IngestionSource
from audits.reconcile import reconcile
from audits.sources.base import Chunk, FileProblem
from audits.sources.files import FilesSource
from audits.sources.registry import build_source
from audits.store import add_errors, record_problem, store_records

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

#: Problems kept per local file: a 1 GB file of broken lines must not make a 1 GB run row.
MAX_PROBLEMS_PER_FILE = 10


# --- Runs ----------------------------------------------------------------------------------------


_COUNTERS = ("files_read", "files_rejected", "records_read", "root_records", "errors")


#: How many chunks without records are counted in memory before their counts and cursor are written.
QUIET_BATCH = 200


@dataclass
class _QuietChunks:
    """Counts of chunks read that had nothing to store, not yet written."""

    count: int = 0
    files_read: int = 0
    records_read: int = 0
    position: str = ""

    def add(self, chunk: Chunk) -> None:
        self.count += 1
        self.files_read += chunk.files_read
        self.records_read += chunk.records_read
        self.position = chunk.position or self.position

    def fold_into(self, run: IngestionRun) -> None:
        run.files_read += self.files_read
        run.records_read += self.records_read

    def clear(self) -> None:
        self.count = self.files_read = self.records_read = 0
        self.position = ""


def _write_counts(run: IngestionRun, source_id: int | None, unit: str, quiet: _QuietChunks) -> None:
    """Write the counts (and cursor advance) of quiet chunks read so far, in one transaction."""
    if not quiet.count:
        return
    with transaction.atomic():
        if source_id is not None and quiet.position:
            IngestionCursor.objects.update_or_create(
                source_id=source_id, unit=unit, defaults={"position": quiet.position}
            )
        quiet.fold_into(run)
        run.save(update_fields=[*_COUNTERS, "updated_at"])
    quiet.clear()


def ingest_chunks(
    *,
    run: IngestionRun,
    source_id: int | None,
    unit: str,
    chunks: Iterator[Chunk],
    on_finish: Callable[[IngestionRun], None] | None = None,
) -> IngestionRun:
    """Store each chunk in its own transaction with the cursor advance and the run's counts.

    ``on_finish`` (the upload's ledger entry) runs in the transaction that saves the run's final status,
    so a run never shows finished without it.

    A chunk's problems (files the adapter rejected) are recorded and reading goes on. Anything
    unexpected (the adapter or the database failing) marks the run failed, is recorded, and is
    re-raised so Celery retries; the cursor then still points after the last stored chunk. Either
    way, the accounts touched are reconciled and the run is finished.
    """
    accounts: set[str] = set()
    reconciled: set[str] = set()
    raised = 0
    skipped_records = 0
    failure: BaseException | None = None
    origin = unit
    # Chunks with nothing to store (the vast majority: root records are rare) are only counted, and
    # written with the next chunk that has something, or every QUIET_BATCH chunks: a transaction per
    # empty file would cost more than reading it. Their cursor advance waits with them; after a
    # crash they are read again, which stores nothing twice.
    quiet = _QuietChunks()
    try:
        for chunk in chunks:
            origin = chunk.name or chunk.position or unit
            if not chunk.records and not chunk.problems and chunk.acknowledge is None:
                quiet.add(chunk)
                if quiet.count >= QUIET_BATCH:
                    _write_counts(run, source_id, unit, quiet)
                continue
            before = {name: getattr(run, name) for name in _COUNTERS}
            try:
                with transaction.atomic():
                    stored = store_records(run=run, records=chunk.records, origin=origin)
                    quiet.fold_into(run)
                    if source_id is not None and chunk.position:
                        IngestionCursor.objects.update_or_create(
                            source_id=source_id, unit=unit, defaults={"position": chunk.position}
                        )
                    run.files_read += chunk.files_read
                    run.files_rejected += chunk.files_rejected
                    run.records_read += chunk.records_read
                    add_errors(run, [{"file": p.name, "reason": p.reason} for p in chunk.problems])
                    run.save(update_fields=[*_COUNTERS, "updated_at"])
                    if chunk.acknowledge is not None:
                        # After commit only: an SQS message deleted before its record is stored is lost.
                        transaction.on_commit(chunk.acknowledge, robust=True)
            except BaseException:
                for name, value in before.items():
                    setattr(run, name, value)
                raise
            quiet.clear()
            accounts |= stored.accounts
            skipped_records += stored.skipped
            if chunk.acknowledge is not None and stored.accounts:
                # A queue is the near-real-time path: alert on this batch now, not when the
                # queue runs dry (the last receive may wait seconds for nothing).
                raised += _reconcile(stored.accounts)
                reconciled |= stored.accounts
        _write_counts(run, source_id, unit, quiet)
    except Exception as error:
        failure = error
        logger.exception("ingestion run %s failed at %s", run.uuid, origin)
        add_errors(run, [{"file": origin, "reason": f"ingestion stopped: {_describe(error)}"}])
        try:
            # The quiet chunks before the failure were read whole; keep their counts and cursor.
            _write_counts(run, source_id, unit, quiet)
        except Exception:
            logger.exception("could not write the counts of run %s", run.uuid)

    try:
        raised += _reconcile(accounts - reconciled)
    except Exception as error:
        logger.exception("reconciliation after run %s failed", run.uuid)
        add_errors(run, [{"file": "", "reason": f"reconciliation failed: {_describe(error)}"}])
        # The run's own error, if any, is the one to retry on; a later run reconciles again.
        failure = failure or error
    # Finished only now, so a run never looks done before its findings are counted.
    run.findings_raised = raised
    run.finished_at = timezone.now()
    if failure is not None:
        run.status = RunStatus.FAILED
    elif run.files_rejected or skipped_records:
        run.status = RunStatus.PARTIAL
    else:
        run.status = RunStatus.SUCCEEDED
    with transaction.atomic():
        run.save(update_fields=["status", "finished_at", "errors", "findings_raised", "updated_at"])
        if on_finish is not None:
            on_finish(run)
    if failure is not None:
        raise failure
    return run


def _reconcile(accounts: set[str]) -> int:
    """The hop from ingestion to reconciliation: the accounts whose root events were stored."""
    if not accounts:
        return 0
    return reconcile(account_ids=sorted(accounts))


def _describe(error: BaseException) -> str:
    # The first line only: database errors add DETAIL lines that may quote record values.
    text = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- One unit of a configured source -------------------------------------------------------------

# Advisory-lock namespace of ingestion units (the first key of pg_try_advisory_lock(int, int)).
_UNIT_LOCK_NAMESPACE = 0x43540001


@contextlib.contextmanager
def _unit_lock(cursor_pk: int) -> Iterator[bool]:
    """Hold the unit for the whole read, or yield False at once if another worker holds it.

    A row lock (``select_for_update(skip_locked=True)`` on the cursor) would only last as long as one
    transaction, and holding one transaction across a read of many chunks would defeat the per-chunk
    commits that make runs resumable. A PostgreSQL session-level advisory lock lasts across those
    transactions, is released in ``finally`` (or by PostgreSQL if the worker's connection dies), and
    is keyed by the cursor row's id, so two units never share a lock. SQLite has no such lock; it is
    the single-worker development database, so the read just proceeds.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = cursor_pk % (2**31)
    with connection.cursor() as db:
        db.execute("SELECT pg_try_advisory_lock(%s, %s)", [_UNIT_LOCK_NAMESPACE, key])
        acquired = bool(db.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with connection.cursor() as db:
                    db.execute("SELECT pg_advisory_unlock(%s, %s)", [_UNIT_LOCK_NAMESPACE, key])
            except Exception:
                # A broken connection has released the lock with its session already.
                logger.warning("could not release the ingestion lock of cursor %s", cursor_pk)


def ingest_unit(
    *, source: IngestionSource, unit: str, triggered_by: User | None = None
) -> IngestionRun | None:
    """Read one unit of ``source`` from its cursor. None when another worker is reading it right now.

    Raises SourceNotAvailable when the source's adapter is missing, and re-raises whatever stopped the
    read (after recording it on the run) so the Celery task can retry.
    """
    cursor, _ = IngestionCursor.objects.get_or_create(source=source, unit=unit)
    with _unit_lock(cursor.pk) as acquired:
        if not acquired:
            return None
        # Read the position only now: the worker that held the lock may have moved it.
        cursor.refresh_from_db(fields=["position"])
        run = IngestionRun.objects.create(
            source=source, kind=source.kind, unit=unit[:500], triggered_by=triggered_by
        )
        try:
            adapter = build_source(kind=source.kind, config=source.config)
        except Exception as error:
            # A misconfigured source must show on the runs page, not only in a worker's log.
            add_errors(run, [{"file": unit, "reason": f"the source cannot be read: {_describe(error)}"}])
            run.status = RunStatus.FAILED
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "finished_at", "errors", "updated_at"])
            raise
        return ingest_chunks(
            run=run, source_id=source.pk, unit=unit, chunks=iter(adapter.read(unit, cursor.position))
        )


# --- Local files and folders ---------------------------------------------------------------------


def ingest_paths(
    *,
    paths: list[Path],
    triggered_by: User | None = None,
    kind: str = SourceKind.FILES,
    names: Mapping[Path, str] | None = None,
    run: IngestionRun | None = None,
    on_finish: Callable[[IngestionRun], None] | None = None,
) -> IngestionRun:
    """Ingest CloudTrail log files and folders (recursively, in sorted order), then reconcile.

    The files are walked and read by the files adapter, with its rules (hidden files and
    ``CloudTrail-Digest`` folders skipped) and caps. A file that cannot be read in full (corrupt gzip,
    invalid JSON, no ``Records``, records without a time or account, over a cap) is counted as rejected
    and named with the reason; its readable records and all the other files are still stored. ``kind``
    is ``upload`` for uploads, and ``names`` gives uploaded files the names people know them by
    (instead of a temporary path). ``run`` is an existing run to fill (the upload task's, made when
    the file was accepted); ``on_finish`` as for :func:`ingest_chunks`.
    """
    if run is None:
        label = ", ".join(str((names or {}).get(path, path)) for path in paths)
        run = IngestionRun.objects.create(kind=kind, unit=label[:500], triggered_by=triggered_by)
    known = {str(path): name for path, name in (names or {}).items()}
    return ingest_chunks(
        run=run, source_id=None, unit=run.unit, chunks=_local_chunks(paths, known), on_finish=on_finish
    )


def _local_chunks(paths: list[Path], names: Mapping[str, str]) -> Iterator[Chunk]:
    # Every path is read from the beginning: a one-off read has no cursor (``source_id`` None).
    source = FilesSource(paths=tuple(str(path) for path in paths))
    for unit in source.units():
        judge = _FileJudge(names)
        for chunk in source.read(unit, ""):
            yield judge.judged(chunk)


class _FileJudge:
    """A local file's chunks as a person handing files in expects them: named as they know it, and the
    file rejected when any of it cannot be stored (a configured source instead reports a bad line and
    reads on), with at most ``MAX_PROBLEMS_PER_FILE`` problems. A file may come in several chunks
    (``Chunk.continued``): it is counted rejected once, and its problems are capped across them."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self._names = names
        self._rejected = False
        self._reasons = 0

    def judged(self, chunk: Chunk) -> Chunk:
        name = self._names.get(chunk.name, chunk.name)
        reasons = [problem.reason for problem in chunk.problems]
        records = []
        for found in chunk.records:
            reason = record_problem(found)
            if reason is None:
                records.append(found)
            else:
                reasons.append(reason)
        room = max(MAX_PROBLEMS_PER_FILE - self._reasons, 0)
        problems = [FileProblem(name, reason) for reason in reasons[:room]]
        self._reasons += len(reasons)
        rejected = 1 if reasons and not self._rejected else 0
        self._rejected = self._rejected or bool(reasons)
        if not chunk.continued:
            if self._reasons > MAX_PROBLEMS_PER_FILE:
                more = self._reasons - MAX_PROBLEMS_PER_FILE
                problems.append(FileProblem(name, f"and {more} more problems in this file"))
            self._rejected, self._reasons = False, 0
        return replace(chunk, name=name, records=records, files_rejected=rejected, problems=problems)


# --- Runs whose worker died ----------------------------------------------------------------------


def sweep_stale_runs(*, now: datetime | None = None) -> int:
    """Mark failed the runs without progress for ``PORTAL_INGEST_STALE_MINUTES``; how many.

    A running run saves its row with every chunk it stores, so a row that has not changed for that long
    belongs to a worker that was killed (out of memory, a deployment) or to an upload no worker ever
    picked up; without this it would show *running* forever. A worker still alive that finishes later
    overwrites the status with the true outcome.
    """
    minutes = settings.PORTAL_INGEST_STALE_MINUTES
    now = now or timezone.now()
    stale = IngestionRun.objects.filter(
        status__in=(RunStatus.QUEUED, RunStatus.RUNNING), updated_at__lt=now - timedelta(minutes=minutes)
    )
    swept = 0
    for run in stale.order_by("pk"):
        with transaction.atomic():
            # Re-read under a row lock: the worker may have moved on since the query above.
            run = IngestionRun.objects.select_for_update().get(pk=run.pk)
            if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING) or run.updated_at >= now - timedelta(
                minutes=minutes
            ):
                continue
            add_errors(
                run,
                [
                    {
                        "file": "",
                        "reason": f"no progress for {minutes} minutes: the worker reading this run "
                        "stopped (killed, restarted or never started); marked failed by the sweep",
                    }
                ],
            )
            run.status = RunStatus.FAILED
            run.finished_at = now
            run.save(update_fields=["status", "finished_at", "errors", "updated_at"])
            swept += 1
    if swept:
        logger.warning("%s ingestion run(s) without progress for %s minutes marked failed", swept, minutes)
    return swept


__all__ = [
    "MAX_PROBLEMS_PER_FILE",
    "ingest_chunks",
    "ingest_paths",
    "ingest_unit",
    "sweep_stale_runs",
]
