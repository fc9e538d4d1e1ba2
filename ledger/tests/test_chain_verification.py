"""Every verification of the chain is stored (``ChainVerification``) and shown on the ledger page:
intact, broken (naming and linking the first broken entry), stale, and started from the page."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ledger import tasks, verification_runs
from ledger.choices import VerificationTrigger
from ledger.models import ChainVerification, LedgerEntry
from ledger.tests.test_verify_ledger_command import break_entry, record_several
from portal.celery import app as celery_app
from portal.testing import step_up

pytestmark = pytest.mark.django_db

LEDGER = reverse("ledger:ledger_list")
VERIFY = reverse("ledger:verification_start")


@pytest.fixture
def auditor_client(client: Client, auditor: Any) -> Client:
    client.force_login(auditor)
    return client


def test_the_hourly_task_stores_an_intact_result_and_the_page_shows_it(auditor_client: Client) -> None:
    record_several(3)

    assert tasks.verify_ledger() is True

    row = ChainVerification.objects.get()
    assert row.trigger == VerificationTrigger.SCHEDULE
    assert row.intact is True
    assert row.entries_checked == 3
    assert row.broken_sequence is None
    assert row.finished_at is not None
    assert row.started_at is not None
    page = auditor_client.get(LEDGER).content.decode()
    assert "Chain verified just now: 3 entries intact" in page
    assert "panel-ok" in page
    assert "Stale" not in page


def test_a_tampered_entry_makes_the_page_name_and_link_the_first_broken_entry(auditor_client: Client) -> None:
    record_several(4)
    break_entry(2)

    assert tasks.verify_ledger() is False

    row = ChainVerification.objects.get()
    assert row.intact is False
    assert row.broken_sequence == 2
    assert row.reason
    page = auditor_client.get(LEDGER).content.decode()
    assert "Chain broken at entry #2" in page
    assert "panel-bad" in page
    detail = reverse("ledger:entry_detail", kwargs={"sequence": 2})
    assert f'href="{detail}"' in page
    entry_page = auditor_client.get(detail)
    assert entry_page.status_code == 200
    assert "test.forged" in entry_page.content.decode()


def test_the_command_stores_its_result_too() -> None:
    record_several(2)
    call_command("verify_ledger", stdout=StringIO())
    assert ChainVerification.objects.get().trigger == VerificationTrigger.COMMAND

    break_entry(1)
    with pytest.raises(CommandError):
        call_command("verify_ledger", "--no-alert", stdout=StringIO())
    broken = ChainVerification.objects.order_by("-finished_at").first()
    assert broken is not None
    assert broken.intact is False
    assert broken.broken_sequence == 1


def test_a_result_older_than_two_beat_intervals_is_called_stale(auditor_client: Client) -> None:
    record_several(1)
    tasks.verify_ledger()
    ChainVerification.objects.update(finished_at=timezone.now() - timedelta(hours=3))

    page = auditor_client.get(LEDGER).content.decode()

    assert "Stale:" in page
    assert "Chain verified 3\xa0hours ago" in page
    assert "panel-warn" in page


def test_a_ledger_never_verified_says_so(auditor_client: Client) -> None:
    page = auditor_client.get(LEDGER).content.decode()
    assert "Chain not verified yet" in page
    assert "Verify the chain now" in page


def test_starting_a_verification_asks_for_a_fresh_second_factor(auditor_client: Client) -> None:
    response = auditor_client.post(VERIFY)
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not ChainVerification.objects.exists()


def test_an_auditor_starts_a_verification_and_its_result_appears(
    auditor_client: Client,
    auditor: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    record_several(2)
    break_entry(2)
    step_up(auditor_client, auditor)

    with django_capture_on_commit_callbacks(execute=True):
        response = auditor_client.post(VERIFY)

    assert response["Location"] == LEDGER
    row = ChainVerification.objects.get()
    assert row.trigger == VerificationTrigger.PAGE
    assert row.requested_by == auditor
    assert row.intact is False
    entry = LedgerEntry.objects.get(action=verification_runs.VERIFICATION_REQUESTED)
    assert entry.actor_id == auditor.pk
    page = auditor_client.get(LEDGER).content.decode()
    assert "Chain broken at entry #2" in page
    assert "audrey.auditor from the ledger page" in page


def test_a_second_click_while_one_runs_starts_nothing_new(auditor: Any) -> None:
    first = verification_runs.verification_request(requested_by=auditor)
    second = verification_runs.verification_request(requested_by=auditor)
    assert first.pk == second.pk
    assert ChainVerification.objects.count() == 1


def test_people_who_may_not_read_the_ledger_cannot_start_one(client: Client, requester: Any) -> None:
    client.force_login(requester)
    step_up(client, requester)
    assert client.post(VERIFY).status_code == 403
    assert client.get(reverse("ledger:entry_detail", kwargs={"sequence": 1})).status_code == 403
    assert not ChainVerification.objects.exists()


def test_the_stale_limit_follows_the_beat_interval() -> None:
    schedule = celery_app.conf.beat_schedule["verify-ledger-hourly"]
    assert schedule["task"] == verification_runs.VERIFY_TASK
    assert schedule["schedule"] == verification_runs.VERIFY_INTERVAL_SECONDS
    assert timedelta(seconds=2 * schedule["schedule"]) == verification_runs.STALE_AFTER


def test_large_counts_are_written_with_thousands_separators(auditor_client: Client) -> None:
    ChainVerification.objects.create(
        trigger=VerificationTrigger.SCHEDULE,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        entries_checked=123456,
        intact=True,
    )
    assert "123,456 entries intact" in auditor_client.get(LEDGER).content.decode()
