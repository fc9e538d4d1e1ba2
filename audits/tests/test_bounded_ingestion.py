"""Ingestion bounded by design (issue 8, item 5, and the account ids of item 10): root records stored
in bounded batches, per-file caps that end a file with a reason, one record that cannot be stored
rejected on its own, runs whose worker died swept to failed, account ids in ASCII digits only."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from audits import ingest, store
from audits.choices import RunStatus, SourceKind
from audits.cloudtrail import screen
from audits.ingest import ingest_paths, ingest_unit
from audits.models import Finding, IngestionCursor, IngestionRun, IngestionSource, RootEvent
from audits.sources.files import FilesSource
from audits.tasks import sweep_stale_runs
from audits.tests.cloudtrail.support import delivery_bytes, iam_user_record, write_delivery, write_lines
from audits.tests.findings_support import hours_ago, root_call
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def reasons(run: IngestionRun) -> str:
    return " | ".join(error["reason"] for error in run.errors)


# --- Bounded batches -------------------------------------------------------------------------------


def test_root_records_are_stored_in_bounded_batches_whatever_their_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fails before the fix: one file was one chunk, all its root records stored (and held) at once.
    monkeypatch.setattr(screen, "BATCH_SIZE", 10)
    sizes: list[int] = []
    real = ingest.store_records

    def counting(**kwargs: Any) -> store.StoreResult:
        records = list(kwargs.pop("records"))
        sizes.append(len(records))
        return real(records=records, **kwargs)

    monkeypatch.setattr(ingest, "store_records", counting)
    when = hours_ago(2)
    records = [root_call(when=when + timedelta(seconds=i), event_id=f"call-{i}") for i in range(35)]
    write_delivery(tmp_path / "many.json.gz", records)

    run = ingest_paths(paths=[tmp_path])

    assert run.status == RunStatus.SUCCEEDED
    assert RootEvent.objects.count() == 35
    assert run.root_records == 35
    assert run.files_read == 1
    assert run.records_read == 35
    assert max(sizes) <= 10
    assert sum(sizes) == 35


@pytest.mark.parametrize("layout", ["delivery", "lines"])
def test_a_file_read_in_batches_keeps_a_resumable_cursor_at_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    monkeypatch.setattr(screen, "BATCH_SIZE", 4)
    records = [root_call(when=hours_ago(1), event_id=f"e-{i}") for i in range(9)]
    folder = tmp_path / "logs"
    folder.mkdir()
    (write_delivery if layout == "delivery" else write_lines)(folder / "a.json", records)

    chunks = list(FilesSource(paths=(str(folder),)).read(str(folder), ""))

    assert [len(chunk.records) for chunk in chunks] == [4, 4, 1]
    # Only the file's last chunk moves the cursor past it: a crash mid-file reads it again.
    assert [chunk.position for chunk in chunks] == ["", "", "a.json"]
    assert [chunk.files_read for chunk in chunks] == [0, 0, 1]
    assert sum(chunk.records_read for chunk in chunks) == 9


def test_records_handed_out_before_a_full_parse_are_not_handed_out_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The byte screen hands out batches, then finds the delivery file does not end with "]}" and
    # falls back to a full parse: the records it already handed out must not come again.
    monkeypatch.setattr(screen, "BATCH_SIZE", 10)
    records = [root_call(when=hours_ago(1), event_id=f"r-{i}") for i in range(25)]
    # Enough records after them that the screen resolves (and hands out) the first ones while reading.
    data = delivery_bytes(records + [iam_user_record(i) for i in range(1000)])
    path = tmp_path / "cut.json"
    path.write_bytes(data[:-2])  # no closing "]}"

    stream = screen.ScreenStream(lambda: path.open("rb"), name=str(path))
    handed = [found.classification.event_id for batch in stream for found in batch]

    assert handed == [f"r-{i}" for i in range(25)]
    assert stream.result.full_parse_reason is not None
    assert stream.result.error is not None


# --- Caps per file ---------------------------------------------------------------------------------


def test_a_file_over_the_records_cap_ends_with_a_clear_reason(tmp_path: Path, settings: Any) -> None:
    # Fails before the fix: there was no cap, a file of millions of records was read to its end.
    settings.PORTAL_INGEST_MAX_RECORDS_PER_FILE = 50
    records = [root_call(when=hours_ago(1), event_id="early-root")]
    records += [iam_user_record(i) for i in range(500)]
    records.append(root_call(when=hours_ago(1), event_id="late-root"))
    write_delivery(tmp_path / "big.json.gz", records)

    run = ingest_paths(paths=[tmp_path])

    assert run.status == RunStatus.PARTIAL
    assert run.files_rejected == 1
    assert "PORTAL_INGEST_MAX_RECORDS_PER_FILE" in reasons(run)
    assert "more than 50 records" in reasons(run)
    assert RootEvent.objects.filter(event_id="early-root").exists()
    assert not RootEvent.objects.filter(event_id="late-root").exists()


def test_a_file_over_the_decompressed_cap_ends_with_a_clear_reason(tmp_path: Path, settings: Any) -> None:
    settings.PORTAL_INGEST_MAX_DECOMPRESSED_BYTES = 300_000
    records = [iam_user_record(i) for i in range(3000)]
    path = write_delivery(tmp_path / "bomb.json.gz", records)
    assert len(gzip.decompress(path.read_bytes())) > 300_000

    run = ingest_paths(paths=[tmp_path])

    assert run.status == RunStatus.PARTIAL
    assert run.files_rejected == 1
    assert "PORTAL_INGEST_MAX_DECOMPRESSED_BYTES" in reasons(run)


# --- One record that cannot be stored --------------------------------------------------------------


def _surrogate_file(path: Path) -> Path:
    broken = root_call(when=hours_ago(2), event_id="broken", userAgent="\ud800")
    key = root_call(when=hours_ago(1), name="CreateAccessKey", source="iam.amazonaws.com", event_id="key")
    # json.dumps escapes the lone surrogate as \ud800: valid JSON, not storable text.
    path.write_text(json.dumps({"Records": [broken, key]}))
    return path


def test_a_lone_surrogate_rejects_its_record_and_stores_the_ones_after_it(tmp_path: Path) -> None:
    # Fails before the fix: UnicodeEncodeError on PostgreSQL failed the run and stored nothing.
    _surrogate_file(tmp_path / "surrogate.json")

    run = ingest_paths(paths=[tmp_path])

    assert run.status == RunStatus.PARTIAL
    assert RootEvent.objects.filter(event_id="key", event_name="CreateAccessKey").exists()
    assert not RootEvent.objects.filter(event_id="broken").exists()
    assert "record broken" in reasons(run)
    assert "not valid Unicode" in reasons(run)


def test_a_lone_surrogate_does_not_block_a_configured_source(tmp_path: Path) -> None:
    folder = tmp_path / "trail"
    folder.mkdir()
    _surrogate_file(folder / "1.json")
    source = IngestionSource.objects.create(
        name="local", kind=SourceKind.FILES, config={"paths": [str(folder)]}
    )

    run = ingest_unit(source=source, unit=str(folder))

    assert run is not None
    assert run.status == RunStatus.PARTIAL
    assert RootEvent.objects.filter(event_id="key").exists()
    assert IngestionCursor.objects.get(source=source).position == "1.json"


# --- Account ids in ASCII digits only --------------------------------------------------------------


@pytest.mark.parametrize(
    "account",
    [
        "".join(chr(0x0660 + int(digit)) for digit in "123456789012"),  # Arabic-Indic digits
        "".join(chr(0xFF10 + int(digit)) for digit in "123456789012"),  # full-width digits
        "123456789012\n",
    ],
    ids=["arabic-indic", "full-width", "trailing-newline"],
)
def test_a_recipient_account_in_non_ascii_digits_is_rejected_with_a_reason(
    tmp_path: Path, account: str
) -> None:
    # Fails before the fix: str.isdigit()/\d accept these and a finding was raised for the "account".
    record = root_call(when=hours_ago(1), event_id="odd-account", account=account)
    write_lines(tmp_path / "odd.jsonl", [record])

    run = ingest_paths(paths=[tmp_path])

    assert run.status == RunStatus.PARTIAL
    assert not RootEvent.objects.exists()
    assert not Finding.objects.exists()
    assert "not 12 digits" in reasons(run)


# --- Runs whose worker died ------------------------------------------------------------------------


def test_the_sweep_marks_failed_a_run_whose_worker_stopped(settings: Any) -> None:
    # Fails before the fix: there was no sweep; a run whose worker was killed stayed running forever.
    settings.PORTAL_INGEST_STALE_MINUTES = 30
    dead = IngestionRun.objects.create(kind=SourceKind.UPLOAD, unit="big.json.gz")
    alive = IngestionRun.objects.create(kind=SourceKind.UPLOAD, unit="small.json.gz")
    done = IngestionRun.objects.create(kind=SourceKind.FILES, status=RunStatus.SUCCEEDED)
    old = timezone.now() - timedelta(minutes=45)
    IngestionRun.objects.filter(pk__in=[dead.pk, done.pk]).update(updated_at=old)

    assert sweep_stale_runs() == 1

    dead.refresh_from_db()
    alive.refresh_from_db()
    done.refresh_from_db()
    assert dead.status == RunStatus.FAILED
    assert dead.finished_at is not None
    assert "no progress for 30 minutes" in reasons(dead)
    assert alive.status == RunStatus.RUNNING
    assert done.status == RunStatus.SUCCEEDED


def test_the_sweep_is_on_the_beat_schedule() -> None:
    tasks = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert "audits.tasks.sweep_stale_runs" in tasks


def test_every_stored_chunk_is_a_heartbeat_of_its_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(screen, "BATCH_SIZE", 2)
    beats: list[Any] = []
    real = ingest.store_records

    def watching(**kwargs: Any) -> store.StoreResult:
        run = kwargs["run"]
        beats.append(IngestionRun.objects.values_list("updated_at", flat=True).get(pk=run.pk))
        return real(**kwargs)

    monkeypatch.setattr(ingest, "store_records", watching)
    write_delivery(tmp_path / "a.json", [root_call(when=hours_ago(1)) for _ in range(6)])

    ingest_paths(paths=[tmp_path])

    assert len(beats) == 3
    assert beats == sorted(beats)
    assert len(set(beats)) == 3
