"""Two workers at once, on PostgreSQL with real threads: identical findings, one reader per unit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from audits.choices import SourceKind
from audits.ingest import ingest_paths, ingest_unit
from audits.models import AssumeRootCall, Finding, IngestionRun, IngestionSource, RootEvent
from audits.reconcile import reconcile
from audits.sources import registry
from audits.sources.base import Chunk
from audits.tests.cloudtrail.support import assume_root_call, member_root_action, write_delivery
from audits.tests.findings_support import canonical_findings, hours_ago, root_call, root_login
from portal.testing import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]


@pytest.fixture(autouse=True)
def _tasks_run_in_place(eager_celery: None) -> None:
    """Every test here runs its Celery tasks in place (the root conftest's ``eager_celery``)."""


def write_logs(folder: Path) -> None:
    start = hours_ago(30)
    for index in range(8):
        moment = start + timedelta(minutes=37 * index)
        records = [
            root_call(when=moment, event_id=f"call-{index}"),
            root_login(when=moment, mfa="No", event_id=f"nomfa-{index}"),
            root_login(when=moment, success=False, event_id=f"failed-{index}"),
            root_call(when=moment, event_id=f"other-{index}", account="210987654321"),
        ]
        if index == 3:
            records += [member_root_action(), assume_root_call()]
        write_delivery(folder / f"{index:02d}.json.gz", records)


def forget_evidence() -> None:
    Finding.objects.all().delete()
    RootEvent.objects.all().delete()
    AssumeRootCall.objects.all().delete()


def test_two_workers_ingesting_the_same_files_at_once_leave_the_findings_of_one(tmp_path: Path) -> None:
    write_logs(tmp_path)
    ingest_paths(paths=[tmp_path])
    alone = canonical_findings()
    events = RootEvent.objects.count()
    assert alone
    forget_evidence()

    for _attempt in range(2):
        _, errors = race(lambda: ingest_paths(paths=[tmp_path]), lambda: ingest_paths(paths=[tmp_path]))

        assert errors == []
        assert canonical_findings() == alone
        assert RootEvent.objects.count() == events
        assert RootEvent.objects.get(event_id="member-root-1").assume_root_caller


def test_two_reconciliations_at_once_raise_each_finding_once(tmp_path: Path) -> None:
    write_logs(tmp_path)
    ingest_paths(paths=[tmp_path])
    alone = canonical_findings()
    Finding.objects.all().delete()

    _, errors = race(reconcile, reconcile, reconcile)

    assert errors == []
    assert canonical_findings() == alone


def test_a_unit_being_read_is_skipped_by_a_second_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    reading = threading.Event()
    release = threading.Event()

    class SlowSource:
        def units(self) -> list[str]:
            return ["unit"]

        def read(self, unit: str, position: str) -> Iterator[Chunk]:
            if unit == "unit":
                reading.set()
                release.wait(timeout=30)
            yield Chunk(position="done", files_read=1)

    monkeypatch.setitem(registry.SOURCE_FACTORIES, SourceKind.S3, lambda config: SlowSource())
    source = IngestionSource.objects.create(name="trail", kind=SourceKind.S3)
    outcome: dict[str, Any] = {}

    def first() -> None:
        try:
            outcome["first"] = ingest_unit(source=source, unit="unit")
        finally:
            connection.close()

    worker = threading.Thread(target=first)
    worker.start()
    assert reading.wait(timeout=30)
    try:
        second = ingest_unit(source=source, unit="unit")
        other_unit = ingest_unit(source=source, unit="another unit")
    finally:
        release.set()
        worker.join(timeout=30)

    assert second is None
    assert other_unit is not None  # only the same unit is held
    assert isinstance(outcome["first"], IngestionRun)
    # Released at the end of the read: the next worker gets the unit.
    assert ingest_unit(source=source, unit="unit") is not None
