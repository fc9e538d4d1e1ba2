"""Retention: finished, unreferenced ingestion runs past the period go; evidence never does.

The evidence guard counts every table but the two operational ones before and after a purge run as
far in the future as anything can be, and reads every statement the purge sent: its DELETEs name the
notification and run tables only, and it UPDATEs nothing.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audits.choices import RunStatus, SourceKind
from audits.models import Finding, IngestionRun, RootEvent
from audits.retention import runs_purge
from audits.tasks import purge_old_ingestion_runs
from audits.tests.findings_support import (
    checkout,
    hours_ago,
    ingest_records,
    make_account,
    root_call,
    root_login,
)
from breakglass.choices import DeliveryStatus
from breakglass.models import AccessRequest, Notification, Transition
from breakglass.retention import notifications_purge
from ledger import services as ledger
from ledger.models import LedgerEntry, LedgerHead
from ledger.retention import PURGED_ACTION
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db

OPERATIONAL = {Notification, IngestionRun}
FAR_FUTURE = timedelta(days=365 * 100)


def run(status: str, *, days_old: int) -> IngestionRun:
    row = IngestionRun.objects.create(kind=SourceKind.FILES, unit="folder", status=status)
    IngestionRun.objects.filter(pk=row.pk).update(started_at=timezone.now() - timedelta(days=days_old))
    return row


@override_settings(PORTAL_RETENTION_RUN_DAYS=400)
def test_only_finished_runs_older_than_the_cutoff_go() -> None:
    old = [run(status, days_old=401) for status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED)]
    queued = run(RunStatus.QUEUED, days_old=900)
    running = run(RunStatus.RUNNING, days_old=900)
    recent = run(RunStatus.SUCCEEDED, days_old=399)

    outcome = runs_purge()

    assert outcome.rows == 3
    assert set(IngestionRun.objects.values_list("pk", flat=True)) == {queued.pk, running.pk, recent.pk}
    assert not IngestionRun.objects.filter(pk__in=[r.pk for r in old]).exists()
    entry = LedgerEntry.objects.get(action=PURGED_ACTION)
    assert entry.data["table"] == "audits.IngestionRun"
    assert entry.data["count"] == 3
    assert (entry.data["oldest_id"], entry.data["newest_id"]) == (old[0].pk, old[-1].pk)


def test_a_run_a_ledger_entry_names_is_kept_however_old() -> None:
    named = run(RunStatus.SUCCEEDED, days_old=900)
    # Written through the service, as an upload's logs.uploaded / logs.ingested entries are.
    ledger.record(actor=None, action="logs.ingested", target=named, data={})

    runs_purge(now=timezone.now() + FAR_FUTURE)

    assert IngestionRun.objects.filter(pk=named.pk).exists()


def test_a_dry_run_deletes_nothing_and_the_command_prints_what_would_go(requester: Any) -> None:
    run(RunStatus.SUCCEEDED, days_old=800)
    row = Notification.objects.create(
        event="request.approved", recipient=requester, subject="s", body="b", status=DeliveryStatus.SENT
    )
    Notification.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=800))
    out = io.StringIO()

    call_command("purge_operational_rows", "--dry-run", stdout=out)

    assert "breakglass.Notification: would delete 1 row(s)" in out.getvalue()
    assert "audits.IngestionRun: would delete 1 row(s)" in out.getvalue()
    assert IngestionRun.objects.count() == 1
    assert Notification.objects.count() == 1
    assert not LedgerEntry.objects.filter(action=PURGED_ACTION).exists()

    call_command("purge_operational_rows", stdout=(out := io.StringIO()))

    assert "audits.IngestionRun: deleted 1 row(s)" in out.getvalue()
    assert not IngestionRun.objects.exists()
    assert not Notification.objects.exists()


def test_the_task_purges_and_answers_how_many() -> None:
    run(RunStatus.FAILED, days_old=800)

    assert purge_old_ingestion_runs() == 1


def _evidence_counts() -> dict[str, int]:
    """Rows of every table but the operational ones; the ledger without the purge's own entries."""
    counts = {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model not in OPERATIONAL and model not in {LedgerEntry, LedgerHead}
    }
    counts["ledger.LedgerEntry"] = LedgerEntry.objects.exclude(action=PURGED_ACTION).count()
    return counts


def test_evidence_is_never_touched_whatever_the_settings(
    tmp_path: Path, requester: Any, approver: Any, custodian: Any
) -> None:
    account = make_account(approver, custodian)
    session = checkout(requester, account, approver, out_at=hours_ago(3), checked_in_at=hours_ago(2))
    ingest_records(tmp_path, [root_login(when=hours_ago(2.5)), root_call(when=hours_ago(2.4))])
    ingest_records(tmp_path, [root_call(when=hours_ago(1))])  # outside the window: a finding
    assert RootEvent.objects.count() == 3
    assert Finding.objects.exists()
    assert AccessRequest.objects.filter(pk=session.pk).exists()
    assert Transition.objects.exists()
    before = _evidence_counts()
    entries_before = list(LedgerEntry.objects.order_by("sequence").values_list("sequence", "hash"))

    # The shortest period allowed, a century on: every finished operational row is past it.
    with (
        override_settings(PORTAL_RETENTION_NOTIFICATION_DAYS=365, PORTAL_RETENTION_RUN_DAYS=365),
        CaptureQueriesContext(connection) as queries,
    ):
        notifications_purge(now=timezone.now() + FAR_FUTURE)
        runs_purge(now=timezone.now() + FAR_FUTURE)

    assert _evidence_counts() == before
    kept = list(
        LedgerEntry.objects.exclude(action=PURGED_ACTION).order_by("sequence").values_list("sequence", "hash")
    )
    assert kept == entries_before
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("DELETE", "UPDATE"))
    ]
    # The only UPDATE allowed is the ledger's head moving on with each purge entry.
    allowed = {f'DELETE FROM "{model._meta.db_table}"' for model in OPERATIONAL}
    allowed.add(f'UPDATE "{LedgerHead._meta.db_table}"')
    assert writes
    for sql in writes:
        assert any(sql.startswith(prefix) for prefix in allowed), sql
    assert (
        not IngestionRun.objects.filter(status__in=(RunStatus.SUCCEEDED, RunStatus.PARTIAL))
        .exclude(kind=SourceKind.UPLOAD)
        .exists()
    )


def test_beat_purges_runs_daily() -> None:
    schedule = {entry["task"]: entry["schedule"] for entry in celery_app.conf.beat_schedule.values()}

    assert schedule["audits.tasks.purge_old_ingestion_runs"] == 86400.0
