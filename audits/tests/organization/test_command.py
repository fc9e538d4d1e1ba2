"""``manage.py sync_organization`` against moto's server (``AWS_ENDPOINT_URL``, as in the issue's
"Done when"), its exit statuses, and the beat task."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import boto3
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audits.choices import SyncStatus, SyncTrigger
from audits.models import OrganizationSync
from audits.tasks import sweep_stale_runs, sync_organization
from audits.tests.organization.conftest import LAYOUT
from audits.tests.organization_support import build_organization, failing_organizations_call
from breakglass.models import AwsAccount
from ledger.models import LedgerEntry
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def run_command() -> tuple[int, str, str]:
    out = io.StringIO()
    try:
        call_command("sync_organization", stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue(), str(error)
    return 0, out.getvalue(), ""


def test_through_a_moto_server_it_imports_every_account_then_changes_nothing(
    moto_server: str, features: Any, one_attempt: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    organizations = boto3.client("organizations", region_name="us-east-1")
    ids = build_organization(organizations, LAYOUT)

    status, out, _ = run_command()

    assert status == 0
    assert "5 accounts, 5 changes." in out
    assert f"{ids['Payments']} New account (ungoverned): Payments · Active · Root/Workloads/Prod" in out
    assert "root credentials management on, root sessions on" in out
    paths = dict(AwsAccount.objects.values_list("account_id", "ou_path"))
    assert paths[ids["Payments"]] == "Root/Workloads/Prod"
    assert paths[ids["Sandbox one"]] == "Root/Workloads/Dev"
    assert paths[ids["Log archive"]] == "Root/Security"
    assert paths[ids["Shared services"]] == "Root"
    entries = LedgerEntry.objects.count()

    status, out, _ = run_command()

    assert status == 0
    assert "5 accounts, 0 changes." in out
    assert LedgerEntry.objects.count() == entries


def test_a_refused_read_exits_1_with_the_reason(org: dict[str, str]) -> None:
    with failing_organizations_call("describe_organization", "AccessDeniedException", "no"):
        status, _, error = run_command()
    assert status == 1
    assert "AccessDeniedException: no" in error
    assert OrganizationSync.objects.get().status == SyncStatus.FAILED


def test_the_beat_task_is_scheduled_hourly() -> None:
    schedule = {entry["task"]: entry["schedule"] for entry in celery_app.conf.beat_schedule.values()}
    assert schedule["audits.tasks.sync_organization"] == 3600.0


def test_the_beat_task_does_nothing_until_enabled(settings: Any, org: dict[str, str]) -> None:
    settings.PORTAL_ORG_SYNC_ENABLED = False
    assert sync_organization() is None
    assert not OrganizationSync.objects.exists()


def test_the_beat_task_syncs_once_enabled(settings: Any, org: dict[str, str]) -> None:
    settings.PORTAL_ORG_SYNC_ENABLED = True
    assert sync_organization() == SyncStatus.SUCCEEDED
    run = OrganizationSync.objects.get()
    assert run.trigger == SyncTrigger.SCHEDULE
    assert run.triggered_by is None
    assert AwsAccount.objects.count() == 5


def test_the_sweep_fails_syncs_whose_worker_died(settings: Any) -> None:
    settings.PORTAL_INGEST_STALE_MINUTES = 30
    stale = OrganizationSync.objects.create(trigger=SyncTrigger.ON_DEMAND, status=SyncStatus.QUEUED)
    fresh = OrganizationSync.objects.create(trigger=SyncTrigger.SCHEDULE, status=SyncStatus.RUNNING)
    OrganizationSync.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(minutes=31))

    sweep_stale_runs()

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == SyncStatus.FAILED
    assert "No worker finished this sync" in stale.reason
    assert fresh.status == SyncStatus.RUNNING
