"""Storing what the CloudTrail sources read: root events, AssumeRoot calls, cursors and runs.

The adapters (``audits.sources``) and the pure modules (``audits.cloudtrail``) know nothing of the
database; this module is where their output becomes rows:

* :func:`store_records` upserts root records into ``RootEvent`` (keyed by eventID and account, so
  re-ingesting changes nothing) and ``AssumeRoot`` calls into ``AssumeRootCall``, and joins the two
  on the temporary access key id whichever arrives first;
* :func:`ingest_chunks` stores a source's chunks one transaction each, advancing the unit's cursor in
  the same transaction, so a run killed half-way resumes right after the last stored chunk;
* :func:`ingest_unit` reads one unit of a configured source, never two workers on one unit;
* :func:`ingest_paths` reads local files and folders (the command and the upload form).

Every run ends by reconciling the accounts it touched (``audits.reconcile``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import DataError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from audits.choices import RunStatus, SourceKind
from audits.cloudtrail.classify import event_digest
from audits.cloudtrail.screen import ScreenedRecord, scan_file
from audits.models import AssumeRootCall, IngestionCursor, IngestionRun, IngestionSource, RootEvent
from audits.sources.base import Chunk, FileProblem, Source, SourceFactory

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

#: An event further ahead than this is stored (it may be a clock problem at AWS's side or a forged
#: record; either way an auditor should see it) but reported on the run.
FUTURE_TOLERANCE = timedelta(minutes=15)
#: Problems kept per file and per run: a 1 GB file of broken lines must not make a 1 GB run row.
MAX_PROBLEMS_PER_FILE = 10
MAX_ERRORS_PER_RUN = 500

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ACCOUNT_IN_PRINCIPAL = re.compile(r"(?<!\d)(\d{12})(?!\d)")
# Folders CloudTrail writes next to the logs that hold no records (digest files are signed summaries).
_SKIPPED_DIRECTORIES = frozenset({"CloudTrail-Digest"})
_TRUNCATED = f"more problems were found; only the first {MAX_ERRORS_PER_RUN} are kept"


class SourceNotAvailable(RuntimeError):
    """The adapter for a source's kind is not installed (yet), or the kind has none."""


# --- Adapters ------------------------------------------------------------------------------------


def _lazy_factory(kind: str) -> SourceFactory:
    """A factory that imports ``audits.sources.<kind>`` only when a source of that kind is read.

    Importing lazily keeps boto3 and the adapters out of processes that never read them (the web),
    and lets a deployment without one adapter still run the others.
    """

    def build(config: dict[str, Any]) -> Source:
        module_name = f"audits.sources.{kind}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise  # the adapter exists but one of its own imports is missing: show that
            raise SourceNotAvailable(f"no adapter for CloudTrail sources of kind {kind!r}") from None
        factory: SourceFactory | None = getattr(module, "build", None)
        if factory is None:
            raise SourceNotAvailable(f"{module_name} has no build(config) function")
        return factory(config)

    return build


#: How to build the adapter of each source kind from its ``config``. Uploads have no adapter: they go
#: through :func:`ingest_paths`.
SOURCE_FACTORIES: dict[str, SourceFactory] = {
    kind: _lazy_factory(kind) for kind in (SourceKind.FILES, SourceKind.S3, SourceKind.LOOKUP, SourceKind.SQS)
}


def build_source(source: IngestionSource) -> Source:
    """The adapter for ``source``; SourceNotAvailable when its kind has none."""
    factory = SOURCE_FACTORIES.get(source.kind)
    if factory is None:
        raise SourceNotAvailable(f"no adapter for CloudTrail sources of kind {source.kind!r}")
    return factory(dict(source.config or {}))


# --- Storing records -----------------------------------------------------------------------------


@dataclass
class StoreResult:
    """What :func:`store_records` did with one batch."""

    root_records: int = 0
    assume_root_calls: int = 0
    # Records that could not be stored (missing time or account); each is also a problem.
    skipped: int = 0
    # Stored, but dated too far ahead; each is also a problem.
    future: int = 0
    # The same record more than once in this batch (stored once).
    duplicates: int = 0
    # AWS accounts whose root events were stored or attributed: these need reconciling.
    accounts: set[str] = field(default_factory=set)
    problems: list[dict[str, str]] = field(default_factory=list)


def record_problem(found: ScreenedRecord) -> str | None:
    """Why a screened record cannot be stored, or None. The reason names the record, never its data."""
    c = found.classification
    label = f"record {c.event_id}" if not c.event_id_is_digest else "a record without eventID"
    if c.event_time is None:
        return f"{label} has no readable eventTime; skipped"
    account = c.account_id
    if account is None:
        return f"{label} names no account (recipientAccountId or userIdentity.accountId); skipped"
    if not _ACCOUNT_ID.match(account):
        return f"{label} has an account id that is not 12 digits ({account[:20]!r}); skipped"
    return None


def store_records(*, run: IngestionRun, records: Iterable[ScreenedRecord], origin: str = "") -> StoreResult:
    """Upsert root records and AssumeRoot calls; attribute member-account actions to their caller.

    Re-ingesting changes nothing: rows are inserted with ``ON CONFLICT DO NOTHING`` on their keys
    (eventID and account for events, eventID for calls; a digest of the record stands in for a missing
    eventID). Problems are appended to ``run.errors`` (named by ``origin``, the file or unit) and
    ``run.root_records`` is counted up; the caller saves the run in its transaction.
    """
    result = StoreResult()
    now = timezone.now()
    events: dict[tuple[str, str], RootEvent] = {}
    calls: dict[str, AssumeRootCall] = {}
    for found in records:
        c = found.classification
        if not (c.is_root or c.is_assume_root_call):
            continue
        reason = record_problem(found)
        if reason is not None:
            result.skipped += 1
            result.problems.append({"file": origin, "reason": reason})
            continue
        assert c.event_time is not None
        assert c.account_id is not None
        event_id = _bounded_event_id(found)
        if c.is_root:
            result.root_records += 1
            key = (event_id, c.account_id)
            if key in events:
                result.duplicates += 1
                continue
            if c.event_time > now + FUTURE_TOLERANCE:
                result.future += 1
                result.problems.append(
                    {
                        "file": origin,
                        "reason": f"record {event_id} is dated {c.event_time:%Y-%m-%d %H:%M:%S} UTC, "
                        "in the future; stored, but check the clock of whatever wrote it",
                    }
                )
            events[key] = _root_event(found, event_id)
            result.accounts.add(c.account_id)
        else:
            result.assume_root_calls += 1
            if event_id in calls:
                result.duplicates += 1
                continue
            call = _assume_root_call(found, event_id)
            calls[event_id] = call
            if call.target_account_id:
                result.accounts.add(call.target_account_id)
    if result.duplicates:
        result.problems.append(
            {
                "file": origin,
                "reason": f"{result.duplicates} duplicated record(s) (same eventID); each stored once",
            }
        )

    if calls:
        _insert(AssumeRootCall, list(calls.values()), result, origin)
    if events:
        rows = list(events.values())
        _attribute_new_events(rows)
        _insert(RootEvent, rows, result, origin)
    if calls:
        # The other direction: events stored before their AssumeRoot call arrived.
        keys = {call.access_key_id for call in calls.values() if call.access_key_id}
        if keys:
            caller = AssumeRootCall.objects.filter(access_key_id=OuterRef("access_key_id")).order_by(
                "event_time"
            )
            RootEvent.objects.filter(access_key_id__in=keys, assume_root_caller="").update(
                assume_root_caller=Subquery(caller.values("caller_arn")[:1]), updated_at=now
            )

    run.root_records += result.root_records
    _add_errors(run, result.problems)
    return result


def _bounded_event_id(found: ScreenedRecord) -> str:
    event_id = found.classification.event_id
    # A hand-made record may carry an id longer than the column; its digest is still stable.
    if len(event_id) > 128:
        return event_digest(found.record)
    return event_id


def _cut(value: str | None, limit: int) -> str:
    return (value or "")[:limit]


def _root_event(found: ScreenedRecord, event_id: str) -> RootEvent:
    c = found.classification
    assert c.event_time is not None
    assert c.account_id is not None
    return RootEvent(
        event_id=event_id,
        event_id_is_digest=c.event_id_is_digest or event_id != c.event_id,
        aws_account_id=c.account_id,
        region=_cut(c.region, 30),
        event_time=c.event_time,
        event_name=_cut(c.event_name, 128) or "(none)",
        event_source=_cut(c.event_source, 128),
        event_type=_cut(c.event_type, 40),
        is_service_event=c.is_service_event,
        mfa_used=c.mfa_used,
        login_success=c.login_success,
        succeeded=c.succeeded,
        access_key_id=_cut(c.access_key_id, 128),
        source_ip=_cut(c.source_ip, 100),
        user_agent=_cut(c.user_agent, 500),
        record_finding_kinds=sorted(c.finding_kinds),
        raw=_storable(found.record),
    )


def _assume_root_call(found: ScreenedRecord, event_id: str) -> AssumeRootCall:
    c = found.classification
    assert c.event_time is not None
    assert c.account_id is not None
    identity = found.record.get("userIdentity")
    caller = identity.get("arn") if isinstance(identity, Mapping) else None
    # targetPrincipal is an account id or a principal ARN inside the member account.
    target = _ACCOUNT_IN_PRINCIPAL.search(c.assume_root_target or "")
    return AssumeRootCall(
        event_id=event_id,
        management_account_id=c.account_id,
        caller_arn=_cut(caller if isinstance(caller, str) else "", 2048),
        target_account_id=target.group(1) if target else "",
        task_policy_arn=_cut(c.assume_root_task_policy_arn, 300),
        access_key_id=_cut(c.assume_root_access_key_id, 128),
        event_time=c.event_time,
        raw=_storable(found.record),
    )


def _attribute_new_events(rows: list[RootEvent]) -> None:
    """Name the AssumeRoot caller on events whose key an already stored call issued (one query)."""
    keys = {row.access_key_id for row in rows if row.access_key_id}
    if not keys:
        return
    callers: dict[str, str] = {}
    for key, arn in (
        AssumeRootCall.objects.filter(access_key_id__in=keys)
        .order_by("-event_time")
        .values_list("access_key_id", "caller_arn")
    ):
        callers[key] = arn  # ordered newest first, so the earliest call wins
    for row in rows:
        if row.access_key_id in callers:
            row.assume_root_caller = callers[row.access_key_id]


def _insert(
    model: type[RootEvent] | type[AssumeRootCall], rows: list[Any], result: StoreResult, origin: str
) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING``; a row the database refuses is skipped, not the batch."""
    try:
        with transaction.atomic():
            model.objects.bulk_create(rows, ignore_conflicts=True)
        return
    except DataError:
        pass  # one odd value (jsonb refuses some strings); find it below and keep the others
    for row in rows:
        try:
            with transaction.atomic():
                model.objects.bulk_create([row], ignore_conflicts=True)
        except DataError:
            result.skipped += 1
            result.problems.append(
                {"file": origin, "reason": f"record {row.event_id} was refused by the database; skipped"}
            )


def _storable(record: dict[str, Any]) -> dict[str, Any]:
    """The record as PostgreSQL's jsonb accepts it: NUL characters cannot be stored in jsonb text."""
    if "\\u0000" not in json.dumps(record, default=str):
        return record
    cleaned: dict[str, Any] = json.loads(json.dumps(record, default=str).replace("\\u0000", "\\ufffd"))
    return cleaned


def _add_errors(run: IngestionRun, problems: list[dict[str, str]]) -> None:
    errors = list(run.errors or [])
    for problem in problems:
        if len(errors) >= MAX_ERRORS_PER_RUN:
            if errors[-1].get("reason") != _TRUNCATED:
                errors.append({"file": "", "reason": _TRUNCATED})
            break
        errors.append({"file": _cut(problem.get("file"), 1000), "reason": _cut(problem.get("reason"), 1000)})
    run.errors = errors


# --- Runs ----------------------------------------------------------------------------------------


@dataclass
class NamedChunk(Chunk):
    """A chunk that knows which file it came from, so problems with its records name the file."""

    name: str = ""


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
    *, run: IngestionRun, source_id: int | None, unit: str, chunks: Iterator[Chunk]
) -> IngestionRun:
    """Store each chunk in its own transaction with the cursor advance and the run's counts.

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
            origin = getattr(chunk, "name", "") or chunk.position or unit
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
                    _add_errors(run, [{"file": p.name, "reason": p.reason} for p in chunk.problems])
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
        _add_errors(run, [{"file": origin, "reason": f"ingestion stopped: {_describe(error)}"}])
        try:
            # The quiet chunks before the failure were read whole; keep their counts and cursor.
            _write_counts(run, source_id, unit, quiet)
        except Exception:
            logger.exception("could not write the counts of run %s", run.uuid)

    try:
        raised += _reconcile(accounts - reconciled)
    except Exception as error:
        logger.exception("reconciliation after run %s failed", run.uuid)
        _add_errors(run, [{"file": "", "reason": f"reconciliation failed: {_describe(error)}"}])
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
    run.save(update_fields=["status", "finished_at", "errors", "findings_raised", "updated_at"])
    if failure is not None:
        raise failure
    return run


def _reconcile(accounts: set[str]) -> int:
    if not accounts:
        return 0
    from audits.reconcile import reconcile

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
            adapter = build_source(source)
        except Exception as error:
            # A misconfigured source must show on the runs page, not only in a worker's log.
            _add_errors(run, [{"file": unit, "reason": f"the source cannot be read: {_describe(error)}"}])
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
) -> IngestionRun:
    """Ingest CloudTrail log files and folders (recursively, in sorted order), then reconcile.

    A file that cannot be read in full (corrupt gzip, invalid JSON, no ``Records``, records without a
    time or account) is counted as rejected and named with the reason; its readable records and all
    the other files are still stored. ``kind`` is ``upload`` for the upload form, and ``names`` gives
    uploaded files the names people know them by (instead of a temporary path).
    """
    label = ", ".join(str((names or {}).get(path, path)) for path in paths)
    run = IngestionRun.objects.create(kind=kind, unit=label[:500], triggered_by=triggered_by)
    return ingest_chunks(run=run, source_id=None, unit=run.unit, chunks=_file_chunks(paths, names or {}))


def _walk(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                candidate
                for candidate in path.rglob("*")
                if candidate.is_file() and _wanted_file(candidate.relative_to(path).parts)
            )
        else:
            yield path  # a missing path is reported by the scan ("cannot read")


def _wanted_file(parts: tuple[str, ...]) -> bool:
    # Hidden files and folders (.DS_Store, .git) are not logs; digest folders hold no records.
    return not any(part.startswith(".") for part in parts) and not _SKIPPED_DIRECTORIES.intersection(parts)


def _file_chunks(paths: list[Path], names: Mapping[Path, str]) -> Iterator[Chunk]:
    for path in _walk(paths):
        name = names.get(path, str(path))
        yield _file_chunk(path, name)


def _file_chunk(path: Path, name: str) -> Chunk:
    try:
        scan = scan_file(path)
    except Exception as error:
        # The screen reports damage itself; this is for the unforeseen, which must not stop the run.
        logger.exception("unexpected error while reading %s", name)
        return NamedChunk(
            position="",
            name=name,
            files_read=1,
            files_rejected=1,
            problems=[FileProblem(name, f"could not be read ({type(error).__name__})")],
        )
    reasons = list(scan.reasons)
    records = []
    for found in scan.records:
        reason = record_problem(found)
        if reason is None:
            records.append(found)
        else:
            reasons.append(reason)
    problems = [FileProblem(name, reason) for reason in reasons[:MAX_PROBLEMS_PER_FILE]]
    if len(reasons) > MAX_PROBLEMS_PER_FILE:
        problems.append(
            FileProblem(name, f"and {len(reasons) - MAX_PROBLEMS_PER_FILE} more problems in this file")
        )
    rejected = bool(reasons)
    return NamedChunk(
        position="",
        name=name,
        records=records,
        # As the adapters count: every file opened is read; those not read in full are also rejected.
        files_read=1,
        files_rejected=1 if rejected else 0,
        records_read=scan.records_read or 0,
        problems=problems,
    )


__all__ = [
    "FUTURE_TOLERANCE",
    "SOURCE_FACTORIES",
    "NamedChunk",
    "SourceNotAvailable",
    "StoreResult",
    "build_source",
    "ingest_chunks",
    "ingest_paths",
    "ingest_unit",
    "record_problem",
    "store_records",
]
