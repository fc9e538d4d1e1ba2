"""The evidence side's Celery tasks: fan-out per unit, retries, reconciliation, and the beat schedule.

Tasks run eagerly here (in the test's thread); ``test_celery_worker.py`` runs them on a real worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from audits import tasks
from audits.choices import FindingKind, RunStatus, SourceKind
from audits.models import Finding, IngestionCursor, IngestionRun, IngestionSource, RootEvent
from audits.tests.cloudtrail.support import write_delivery
from audits.tests.findings_support import UNKNOWN_ACCOUNT_ID, checkout, hours_ago, make_account, root_call
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_celery() -> Iterator[None]:
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = False
    cache.clear()  # the beat task's "already queued" marks
    try:
        yield
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous
        cache.clear()


def folder_source(tmp_path: Path, *folders: str, **fields: Any) -> IngestionSource:
    paths = []
    for name in folders:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        paths.append(str(folder))
    return IngestionSource.objects.create(
        name=fields.pop("name", "local logs"), kind=SourceKind.FILES, config={"paths": paths}, **fields
    )


def test_the_tasks_have_stable_names() -> None:
    names = {
        tasks.ingest_source.name,
        tasks.ingest_unit_task.name,
        tasks.reconcile_accounts.name,
        tasks.reconcile_all.name,
        tasks.ingest_enabled_sources.name,
    }

    assert names == {
        "audits.tasks.ingest_source",
        "audits.tasks.ingest_unit",
        "audits.tasks.reconcile_accounts",
        "audits.tasks.reconcile_all",
        "audits.tasks.ingest_enabled_sources",
    }


def test_a_source_fans_out_one_unit_task_per_unit_and_each_makes_a_run(tmp_path: Path) -> None:
    source = folder_source(tmp_path, "us-east-1", "eu-west-1")
    write_delivery(
        tmp_path / "us-east-1" / "a.json.gz",
        [root_call(when=hours_ago(1), account=UNKNOWN_ACCOUNT_ID, event_id="root-in-us-east-1")],
    )
    write_delivery(
        tmp_path / "eu-west-1" / "b.json.gz", [root_call(when=hours_ago(1), event_id="root-in-eu")]
    )

    queued = tasks.ingest_source.delay(source.pk).get()

    assert queued == 2
    runs = IngestionRun.objects.filter(source=source)
    assert sorted(run.unit for run in runs) == sorted(source.config["paths"])
    assert all(run.status == RunStatus.SUCCEEDED for run in runs)
    assert set(RootEvent.objects.values_list("event_id", flat=True)) == {"root-in-us-east-1", "root-in-eu"}
    assert Finding.objects.filter(kind=FindingKind.UNAPPROVED_ROOT_USAGE).count() == 2
    assert IngestionCursor.objects.filter(source=source).count() == 2


def test_a_second_fan_out_reads_nothing_twice(tmp_path: Path) -> None:
    source = folder_source(tmp_path, "logs")
    write_delivery(tmp_path / "logs" / "a.json.gz", [root_call(when=hours_ago(1), event_id="once")])
    tasks.ingest_source.delay(source.pk).get()

    tasks.ingest_source.delay(source.pk).get()

    runs = list(IngestionRun.objects.filter(source=source).order_by("started_at"))
    assert len(runs) == 2
    assert (runs[0].files_read, runs[1].files_read) == (1, 0)
    assert RootEvent.objects.count() == 1


def test_a_disabled_or_deleted_source_is_left_alone(tmp_path: Path) -> None:
    source = folder_source(tmp_path, "logs", enabled=False)

    assert tasks.ingest_source.delay(source.pk).get() == 0
    assert tasks.ingest_unit_task.delay(source.pk, source.config["paths"][0]).get() is None
    assert tasks.ingest_source.delay(source.pk + 1000).get() == 0
    assert not IngestionRun.objects.exists()


def test_a_source_without_an_adapter_is_not_retried(tmp_path: Path) -> None:
    # Uploads have no adapter; a source of that kind is a configuration mistake, not a passing failure.
    source = IngestionSource.objects.create(name="wrong", kind=SourceKind.UPLOAD, config={})

    result = tasks.ingest_source.delay(source.pk)

    assert result.get() == 0
    assert result.successful()


def test_the_unit_task_returns_its_run(tmp_path: Path) -> None:
    source = folder_source(tmp_path, "logs")

    run_uuid = tasks.ingest_unit_task.delay(source.pk, source.config["paths"][0]).get()

    assert IngestionRun.objects.get(uuid=run_uuid).source == source


def test_an_unexpected_failure_of_a_unit_is_retried_five_times_then_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = folder_source(tmp_path, "logs")
    calls: list[str] = []

    def broken(*, source: IngestionSource, unit: str, triggered_by: Any = None) -> IngestionRun:
        calls.append(unit)
        raise ConnectionError("database went away")

    monkeypatch.setattr(tasks, "ingest_unit", broken)

    result = tasks.ingest_unit_task.apply(args=(source.pk, source.config["paths"][0]))

    assert result.failed()
    assert isinstance(result.result, ConnectionError)
    assert len(calls) == 1 + tasks.UNIT_MAX_RETRIES


def test_the_unit_task_is_acknowledged_late_and_backs_off() -> None:
    task = tasks.ingest_unit_task

    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert task.max_retries == 5
    assert Exception in task.autoretry_for
    assert task.retry_backoff is True
    assert task.retry_jitter is True


def test_reconcile_accounts_hands_the_accounts_to_reconciliation(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def fake(*, account_ids: Any = None, now: Any = None) -> int:
        seen.append(account_ids)
        return 3

    monkeypatch.setattr(tasks, "reconcile", fake)

    assert tasks.reconcile_accounts.delay(["111122223333"]).get() == 3
    assert tasks.reconcile_accounts.delay(None).get() == 3
    assert tasks.reconcile_all.delay().get() == 3
    assert seen == [["111122223333"], None, None]


def test_reconcile_all_raises_findings_that_time_alone_made_true(
    requester: Any, approver: Any, custodian: Any
) -> None:
    account = make_account(approver, custodian)
    checkout(requester, account, approver, out_at=hours_ago(5), minutes=60)

    tasks.reconcile_all.delay().get()

    assert Finding.objects.filter(kind=FindingKind.CHECKOUT_OVERDUE).count() == 1


# --- The beat task ------------------------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    found: list[int] = []
    monkeypatch.setattr(tasks.ingest_source, "delay", lambda source_id: found.append(source_id))
    return found


def test_sources_never_run_are_due(tmp_path: Path, queued: list[int]) -> None:
    first = folder_source(tmp_path, "a", name="first")
    second = folder_source(tmp_path, "b", name="second")

    assert tasks.ingest_enabled_sources() == [first.pk, second.pk]
    assert queued == [first.pk, second.pk]


def test_a_source_is_due_when_its_schedule_has_passed_since_its_last_run(
    tmp_path: Path, queued: list[int]
) -> None:
    recent = folder_source(tmp_path, "a", name="recent", schedule_seconds=300)
    stale = folder_source(tmp_path, "b", name="stale", schedule_seconds=300)
    IngestionRun.objects.create(source=recent, kind=SourceKind.FILES)
    old = IngestionRun.objects.create(source=stale, kind=SourceKind.FILES)
    # Due within half a beat tick of the schedule: a five-minute source runs every five minutes, not six.
    IngestionRun.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(seconds=297))

    tasks.ingest_enabled_sources()

    assert queued == [stale.pk]


def test_disabled_sources_are_not_queued(tmp_path: Path, queued: list[int]) -> None:
    folder_source(tmp_path, "a", enabled=False)

    tasks.ingest_enabled_sources()

    assert queued == []


def test_a_source_queued_but_not_started_is_not_queued_again_next_minute(
    tmp_path: Path, queued: list[int]
) -> None:
    source = folder_source(tmp_path, "a", schedule_seconds=600)

    tasks.ingest_enabled_sources()
    tasks.ingest_enabled_sources()

    assert queued == [source.pk]


def test_the_beat_schedule_checks_sources_every_tick_and_reconciles_every_five_minutes() -> None:
    schedule = {entry["task"]: entry["schedule"] for entry in celery_app.conf.beat_schedule.values()}

    assert schedule["audits.tasks.ingest_enabled_sources"] == tasks.SCHEDULE_TICK_SECONDS
    assert schedule["audits.tasks.reconcile_all"] == 300.0
    ours = {name for name in schedule if name.startswith("audits.")}
    assert ours <= set(celery_app.tasks)
