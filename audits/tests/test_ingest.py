"""Storing CloudTrail records: idempotent upserts, bad input reported with the file, AssumeRoot
attribution, cursors advanced with the data, resumable runs."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from audits import ingest
from audits.choices import FindingKind, RunStatus, SourceKind
from audits.cloudtrail.screen import scan_file
from audits.ingest import ingest_paths, ingest_unit
from audits.models import AssumeRootCall, Finding, IngestionCursor, IngestionRun, IngestionSource, RootEvent
from audits.sources import registry
from audits.sources.base import Chunk, FileProblem
from audits.sources.registry import SourceNotAvailable
from audits.tests.cloudtrail.support import (
    assume_root_call,
    load_event,
    member_root_action,
    shared_dir,
    write_delivery,
    write_lines,
)
from audits.tests.findings_support import (
    ACCOUNT_ID,
    canonical_findings,
    hours_ago,
    ingest_records,
    root_call,
    root_login,
)

pytestmark = pytest.mark.django_db


def reasons_for(run: IngestionRun, name: str) -> list[str]:
    return [error["reason"] for error in run.errors if Path(error["file"]).name == name]


# --- Real logs and re-ingestion -------------------------------------------------------------------


def test_the_two_real_logs_produce_no_root_findings() -> None:
    logs = shared_dir("logs")

    run = ingest_paths(paths=[logs])

    assert run.status == RunStatus.SUCCEEDED
    assert run.files_read == 2
    assert run.files_rejected == 0
    assert run.records_read == 2900 + 310
    assert run.root_records == 0
    assert run.findings_raised == 0
    assert not Finding.objects.exists()


def test_ingesting_the_same_files_twice_changes_nothing(tmp_path: Path) -> None:
    when = hours_ago(2)
    records = [
        root_login(when=when, mfa="No", event_id="login-1"),
        root_call(when=when + timedelta(minutes=1), event_id="call-1"),
        root_call(when=when + timedelta(minutes=2), event_id="call-2", account="999988887777"),
    ]
    write_delivery(tmp_path / "a.json.gz", records)
    write_lines(tmp_path / "b.jsonl", records[:1])

    first = ingest_paths(paths=[tmp_path])
    findings = canonical_findings()
    events = list(RootEvent.objects.values_list("event_id", "aws_account_id", "session_id", "updated_at"))
    second = ingest_paths(paths=[tmp_path])

    assert first.findings_raised == 3  # unapproved in two accounts, and the login without MFA
    assert second.findings_raised == 0
    assert second.root_records == first.root_records == 4
    assert RootEvent.objects.count() == 3
    assert canonical_findings() == findings
    assert (
        list(RootEvent.objects.values_list("event_id", "aws_account_id", "session_id", "updated_at"))
        == events
    )


def test_a_record_without_event_id_is_stored_once_under_a_digest(tmp_path: Path) -> None:
    record = root_call(when=hours_ago(1))
    del record["eventID"]

    ingest_records(tmp_path, [record], name="a.json")
    ingest_records(tmp_path, [record], name="b.json")

    event = RootEvent.objects.get()
    assert event.event_id_is_digest
    assert len(event.event_id) == 64


def test_the_same_event_id_in_two_accounts_is_two_events(tmp_path: Path) -> None:
    when = hours_ago(1)
    ingest_records(
        tmp_path,
        [
            root_call(when=when, event_id="same"),
            root_call(when=when, event_id="same", account="210987654321"),
        ],
    )

    assert sorted(RootEvent.objects.values_list("aws_account_id", flat=True)) == [
        "123456789012",
        "210987654321",
    ]


def test_stored_events_keep_what_classification_says(tmp_path: Path) -> None:
    ingest_records(tmp_path, [root_login(when=hours_ago(1), mfa="YES", event_id="login-1")])

    event = RootEvent.objects.get()
    assert (event.event_name, event.event_source, event.region) == (
        "ConsoleLogin",
        "signin.amazonaws.com",
        "us-east-1",
    )
    assert event.mfa_used is True
    assert event.login_success is True
    assert event.record_finding_kinds == []
    assert event.raw["eventID"] == "login-1"


# --- Bad input -----------------------------------------------------------------------------------


def test_a_corrupt_gzip_is_reported_with_the_file_and_the_other_files_are_kept(tmp_path: Path) -> None:
    good = write_delivery(tmp_path / "good.json.gz", [root_call(when=hours_ago(1), event_id="good")])
    damaged = gzip.compress(json.dumps({"Records": [root_call(when=hours_ago(1), event_id="lost")]}).encode())
    (tmp_path / "corrupt.json.gz").write_bytes(damaged[: len(damaged) // 2] + b"\x00garbage" * 10)

    run = ingest_paths(paths=[tmp_path])

    assert run.status == RunStatus.PARTIAL
    assert run.files_read == 2
    assert run.files_rejected == 1
    assert any("gzip" in reason for reason in reasons_for(run, "corrupt.json.gz"))
    assert RootEvent.objects.filter(event_id="good").exists()
    assert good.exists()


def test_invalid_json_and_a_file_without_records_are_rejected_by_name(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text(
        '{"Records": [{"eventVersion": "1.08", "userIdentity": {"type": "Root"'
    )
    (tmp_path / "norecords.json").write_text(json.dumps({"Events": "nothing here"}))
    ingest_records(tmp_path, [root_call(when=hours_ago(1), event_id="good")], name="good.json")

    run = ingest_paths(paths=[tmp_path])

    assert run.files_rejected == 2
    assert reasons_for(run, "broken.json")
    assert reasons_for(run, "norecords.json")
    assert not reasons_for(run, "good.json")
    assert run.status == RunStatus.PARTIAL
    assert RootEvent.objects.filter(event_id="good").exists()


def test_records_missing_their_time_or_account_are_skipped_and_named(tmp_path: Path) -> None:
    no_time = root_call(when=hours_ago(1), event_id="no-time")
    del no_time["eventTime"]
    no_account = root_call(when=hours_ago(1), event_id="no-account")
    del no_account["recipientAccountId"]
    del no_account["userIdentity"]["accountId"]
    redacted = root_call(when=hours_ago(1), event_id="redacted", account="redacted")
    no_time_at_all = load_event("panther__root-externalidpdirectorylogin-failure.json")
    good = root_call(when=hours_ago(1), event_id="good")

    run = ingest_records(tmp_path, [no_time, no_account, redacted, no_time_at_all, good], name="mixed.json")

    reasons = " | ".join(reasons_for(run, "mixed.json"))
    assert "no-time has no readable eventTime" in reasons
    assert "no-account names no account" in reasons
    assert "redacted has an account id that is not 12 digits" in reasons
    assert run.files_rejected == 1
    assert run.status == RunStatus.PARTIAL
    assert list(RootEvent.objects.values_list("event_id", flat=True)) == ["good"]


def test_duplicated_records_are_stored_once_and_reported(tmp_path: Path) -> None:
    record = root_call(when=hours_ago(1), event_id="twice")

    run = ingest_records(
        tmp_path, [record, record, root_call(when=hours_ago(1), event_id="once")], name="dups.json"
    )

    assert RootEvent.objects.count() == 2
    assert any("1 duplicated record" in reason for reason in reasons_for(run, "dups.json"))
    assert run.status == RunStatus.SUCCEEDED  # nothing was lost


def test_events_in_the_future_are_stored_and_reported(tmp_path: Path) -> None:
    future = root_call(when=timezone.now() + timedelta(hours=2), event_id="from-the-future")
    soon = root_call(when=timezone.now() + timedelta(minutes=5), event_id="clock-skew")

    run = ingest_records(tmp_path, [future, soon], name="future.json")

    assert set(RootEvent.objects.values_list("event_id", flat=True)) == {"from-the-future", "clock-skew"}
    reasons = reasons_for(run, "future.json")
    assert len(reasons) == 1
    assert "from-the-future" in reasons[0]
    assert "in the future" in reasons[0]


def test_a_missing_path_is_a_rejected_file(tmp_path: Path) -> None:
    run = ingest_paths(paths=[tmp_path / "nowhere.json.gz"])

    assert (run.files_read, run.files_rejected) == (0, 1)
    assert reasons_for(run, "nowhere.json.gz") == ["no such file or folder"]


def test_problems_with_an_uploaded_file_name_it_as_its_owner_knows_it(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_text('{"Records": [{"eventVersion": "1.08", "userIdentity": {"type": "Root"')

    run = ingest_paths(paths=[path], kind=SourceKind.UPLOAD, names={path: "my-log.json"})

    assert run.files_rejected == 1
    assert run.errors
    assert {error["file"] for error in run.errors} == {"my-log.json"}


def test_cloudtrail_digest_files_and_hidden_files_are_not_read(tmp_path: Path) -> None:
    digest = tmp_path / "AWSLogs" / "CloudTrail-Digest" / "us-east-1"
    digest.mkdir(parents=True)
    (digest / "digest.json.gz").write_bytes(gzip.compress(b'{"awsAccountId": "123456789012"}'))
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main")
    ingest_records(tmp_path, [root_call(when=hours_ago(1))], name="log.json.gz")

    run = ingest_paths(paths=[tmp_path])

    assert (run.files_read, run.files_rejected) == (1, 0)


def test_ingest_paths_and_a_configured_files_source_skip_the_same_files(tmp_path: Path) -> None:
    # One walker: the command and the upload read local files by the files source's rules.
    digest = tmp_path / "AWSLogs" / "123456789012" / "CloudTrail-Digest" / "us-east-1" / "2024"
    digest.mkdir(parents=True)
    (digest / "digest.json.gz").write_bytes(gzip.compress(b'{"awsAccountId": "123456789012"}'))
    (tmp_path / ".hidden.json").write_text("{}")
    write_delivery(tmp_path / "AWSLogs" / "log.json.gz", [root_call(when=hours_ago(1))])
    source = IngestionSource.objects.create(
        name="local", kind=SourceKind.FILES, config={"paths": [str(tmp_path)]}
    )

    by_paths = ingest_paths(paths=[tmp_path])
    by_source = ingest_unit(source=source, unit=str(tmp_path))

    assert by_source is not None
    assert (by_paths.files_read, by_paths.files_rejected) == (1, 0)
    assert (by_source.files_read, by_source.files_rejected) == (1, 0)


# --- AssumeRoot --------------------------------------------------------------------------------------


def test_member_account_actions_are_attributed_to_the_assume_root_caller(tmp_path: Path) -> None:
    ingest_records(tmp_path, [assume_root_call(), member_root_action()])

    call = AssumeRootCall.objects.get()
    assert (call.target_account_id, call.access_key_id) == ("222222222222", "ASIAISSUEDKEY")
    assert call.task_policy_arn.endswith("/IAMDeleteRootUserCredentials")
    event = RootEvent.objects.get()
    assert event.assume_root_caller == "arn:aws:sts::111111111111:assumed-role/BreakGlass/alice"


def test_a_call_arriving_after_its_member_events_still_attributes_them(tmp_path: Path) -> None:
    ingest_records(tmp_path, [member_root_action()], name="member.json")
    assert RootEvent.objects.get().assume_root_caller == ""

    ingest_records(tmp_path, [assume_root_call()], name="management.json")

    event = RootEvent.objects.get()
    assert event.assume_root_caller == "arn:aws:sts::111111111111:assumed-role/BreakGlass/alice"
    finding = Finding.objects.get(kind=FindingKind.UNAPPROVED_ROOT_USAGE)
    assert (
        "through AssumeRoot called by arn:aws:sts::111111111111:assumed-role/BreakGlass/alice"
        in finding.summary
    )


def test_an_event_with_an_unrelated_key_is_not_attributed(tmp_path: Path) -> None:
    ingest_records(tmp_path, [assume_root_call(), member_root_action(key="ASIASOMETHINGELSE")])

    assert RootEvent.objects.get().assume_root_caller == ""


# --- Sources, cursors and resumability -----------------------------------------------------------------


@dataclass
class FolderSource:
    """A source reading one folder's files in order, one chunk per file, the position being the
    file name; ``fail_after`` chunks it dies like a killed worker."""

    folder: Path
    fail_after: int | None = None
    acknowledged: list[str] = field(default_factory=list)

    def units(self) -> list[str]:
        return ["folder"]

    def read(self, unit: str, position: str) -> Iterator[Chunk]:
        yielded = 0
        for path in sorted(self.folder.iterdir()):
            if position and path.name <= position:
                continue
            if self.fail_after is not None and yielded == self.fail_after:
                raise RuntimeError("worker killed")
            scan = scan_file(path)
            yield Chunk(
                position=path.name,
                records=scan.records,
                files_read=1,
                records_read=scan.records_read or 0,
                acknowledge=lambda name=path.name: self.acknowledged.append(name),  # type: ignore[misc]
            )
            yielded += 1


def write_day_of_logs(folder: Path) -> None:
    start = hours_ago(5)
    for index in range(6):
        moment = start + timedelta(minutes=20 * index)
        write_delivery(
            folder / f"{index:02d}.json.gz",
            [
                root_call(when=moment, event_id=f"call-{index}"),
                root_login(when=moment, mfa="No" if index % 2 else "Yes", event_id=f"login-{index}"),
                root_login(when=moment, success=False, event_id=f"failed-{index}"),
            ],
        )


@pytest.fixture
def folder_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[IngestionSource, list[FolderSource]]:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_day_of_logs(logs)
    built: list[FolderSource] = []
    plan: dict[str, Any] = {"fail_after": None}

    def build(config: dict[str, Any]) -> FolderSource:
        source = FolderSource(Path(config["folder"]), fail_after=plan["fail_after"])
        built.append(source)
        return source

    monkeypatch.setitem(registry.SOURCE_FACTORIES, SourceKind.FILES, build)
    source = IngestionSource.objects.create(name="local", kind=SourceKind.FILES, config={"folder": str(logs)})
    source.plan = plan  # type: ignore[attr-defined]
    return source, built


def test_a_unit_is_read_from_its_cursor_and_the_cursor_follows_the_stored_data(
    folder_source: tuple[IngestionSource, list[FolderSource]],
) -> None:
    source, _ = folder_source

    run = ingest_unit(source=source, unit="folder")

    assert run is not None
    assert run.status == RunStatus.SUCCEEDED
    assert (run.kind, run.unit, run.source) == (SourceKind.FILES, "folder", source)
    assert run.files_read == 6
    assert run.root_records == 18
    assert IngestionCursor.objects.get(source=source, unit="folder").position == "05.json.gz"
    again = ingest_unit(source=source, unit="folder")
    assert again is not None
    assert again.files_read == 0


def test_a_run_killed_half_way_and_restarted_ends_like_an_uninterrupted_one(
    folder_source: tuple[IngestionSource, list[FolderSource]],
) -> None:
    source, _ = folder_source
    ingest_unit(source=source, unit="folder")
    uninterrupted = canonical_findings()
    assert uninterrupted
    # Start again from nothing, and kill the worker after three files.
    Finding.objects.all().delete()
    RootEvent.objects.all().delete()
    IngestionCursor.objects.all().delete()
    source.plan["fail_after"] = 3  # type: ignore[attr-defined]

    with pytest.raises(RuntimeError, match="worker killed"):
        ingest_unit(source=source, unit="folder")

    failed = IngestionRun.objects.filter(status=RunStatus.FAILED).get()
    assert failed.files_read == 3
    assert failed.finished_at is not None
    assert any("worker killed" in error["reason"] for error in failed.errors)
    assert IngestionCursor.objects.get(source=source, unit="folder").position == "02.json.gz"
    assert RootEvent.objects.count() == 9

    source.plan["fail_after"] = None  # type: ignore[attr-defined]
    resumed = ingest_unit(source=source, unit="folder")

    assert resumed is not None
    assert resumed.files_read == 3
    assert IngestionCursor.objects.get(source=source, unit="folder").position == "05.json.gz"
    assert canonical_findings() == uninterrupted


def test_chunks_are_acknowledged_only_after_their_transaction_commits(
    folder_source: tuple[IngestionSource, list[FolderSource]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    source, built = folder_source

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ingest_unit(source=source, unit="folder")
        assert built[0].acknowledged == []

    for callback in callbacks:
        callback()
    assert built[0].acknowledged[:6] == [f"{i:02d}.json.gz" for i in range(6)]


def test_chunk_problems_are_recorded_and_reading_goes_on(tmp_path: Path) -> None:
    record = root_call(when=hours_ago(1), event_id="kept")
    found = scan_file(write_delivery(tmp_path / "a.json", [record]))
    run = IngestionRun.objects.create(kind=SourceKind.S3, unit="o-1/123456789012/us-east-1")
    chunks = iter(
        [
            Chunk(
                position="k1", files_read=1, files_rejected=1, problems=[FileProblem("k1", "corrupt gzip")]
            ),
            Chunk(position="k2", files_read=1, records=found.records, records_read=1),
        ]
    )

    ingest.ingest_chunks(run=run, source_id=None, unit=run.unit, chunks=chunks)

    assert run.status == RunStatus.PARTIAL
    assert run.errors == [{"file": "k1", "reason": "corrupt gzip"}]
    assert RootEvent.objects.filter(event_id="kept").exists()
    assert run.findings_raised == 1


def test_a_source_kind_without_an_adapter_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.SOURCE_FACTORIES, "nosuch", registry.lazy_factory("nosuch"))
    source = IngestionSource.objects.create(name="odd", kind="nosuch")

    with pytest.raises(SourceNotAvailable, match="no adapter for CloudTrail sources of kind 'nosuch'"):
        ingest_unit(source=source, unit="u")

    run = IngestionRun.objects.get(source=source)
    assert run.status == RunStatus.FAILED
    assert run.errors == [
        {
            "file": "u",
            "reason": "the source cannot be read: SourceNotAvailable: no adapter for CloudTrail "
            "sources of kind 'nosuch'",
        }
    ]


def test_a_run_is_attributed_to_the_person_who_started_it(tmp_path: Path, auditor: Any) -> None:
    path = write_delivery(tmp_path / "upload.json", [root_call(when=hours_ago(1))])

    run = ingest_paths(
        paths=[path], triggered_by=auditor, kind=SourceKind.UPLOAD, names={path: "my-log.json"}
    )

    assert (run.kind, run.triggered_by, run.unit) == (SourceKind.UPLOAD, auditor, "my-log.json")
    assert ACCOUNT_ID in Finding.objects.get().summary


def quiet_chunks(count: int, *, fail_after: int | None = None) -> Iterator[Chunk]:
    for index in range(count):
        if fail_after is not None and index == fail_after:
            raise RuntimeError("worker killed")
        yield Chunk(position=f"file-{index:04d}", files_read=1, records_read=100)


def test_files_without_root_records_are_counted_in_batches_and_the_cursor_ends_at_the_last(
    django_assert_max_num_queries: Any,
) -> None:
    source = IngestionSource.objects.create(name="quiet", kind=SourceKind.FILES, config={"paths": ["/x"]})
    run = IngestionRun.objects.create(source=source, kind=SourceKind.FILES, unit="u")

    # 450 files cost a handful of writes, not 450 transactions.
    with django_assert_max_num_queries(30):
        ingest.ingest_chunks(run=run, source_id=source.pk, unit="u", chunks=quiet_chunks(450))

    run.refresh_from_db()
    assert (run.files_read, run.records_read, run.status) == (450, 45_000, RunStatus.SUCCEEDED)
    assert IngestionCursor.objects.get(source=source, unit="u").position == "file-0449"


def test_a_run_killed_among_quiet_files_keeps_what_it_read_and_resumes_after_it() -> None:
    source = IngestionSource.objects.create(name="quiet", kind=SourceKind.FILES, config={"paths": ["/x"]})
    run = IngestionRun.objects.create(source=source, kind=SourceKind.FILES, unit="u")

    with pytest.raises(RuntimeError):
        ingest.ingest_chunks(run=run, source_id=source.pk, unit="u", chunks=quiet_chunks(450, fail_after=250))

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.files_read == 250
    assert IngestionCursor.objects.get(source=source, unit="u").position == "file-0249"
