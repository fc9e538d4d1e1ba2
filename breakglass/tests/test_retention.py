"""Retention of notifications: only finished ones past the period go, in ledgered batches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from breakglass.choices import DeliveryStatus
from breakglass.models import Notification
from breakglass.retention import notification_cutoff, notifications_purge
from breakglass.tasks import purge_old_notifications
from ledger.models import LedgerEntry
from ledger.retention import PURGED_ACTION
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def notification(status: str, *, days_old: int, recipient: Any) -> Notification:
    row = Notification.objects.create(
        event="request.approved", recipient=recipient, subject="s", body="b", status=status
    )
    Notification.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days_old))
    return row


@override_settings(PORTAL_RETENTION_NOTIFICATION_DAYS=400)
def test_only_finished_notifications_older_than_the_cutoff_go(requester: Any) -> None:
    old_sent = notification(DeliveryStatus.SENT, days_old=401, recipient=requester)
    old_failed = notification(DeliveryStatus.FAILED, days_old=500, recipient=requester)
    old_queued = notification(DeliveryStatus.QUEUED, days_old=900, recipient=requester)
    recent_sent = notification(DeliveryStatus.SENT, days_old=399, recipient=requester)

    outcome = notifications_purge()

    assert outcome.rows == 2
    remaining = set(Notification.objects.values_list("pk", flat=True))
    assert remaining == {old_queued.pk, recent_sent.pk}
    assert old_sent.pk not in remaining
    assert old_failed.pk not in remaining


def test_queued_notifications_never_go_however_old(requester: Any) -> None:
    queued = notification(DeliveryStatus.QUEUED, days_old=36500, recipient=requester)

    notifications_purge(now=timezone.now() + timedelta(days=36500))

    assert Notification.objects.filter(pk=queued.pk).exists()


def test_each_batch_is_one_ledger_entry_naming_table_count_cutoff_and_ids(
    requester: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ledger.retention.BATCH_SIZE", 2)
    rows = [notification(DeliveryStatus.SENT, days_old=800, recipient=requester) for _ in range(5)]
    now = timezone.now()

    outcome = notifications_purge(now=now)

    assert outcome.rows == 5
    entries = list(LedgerEntry.objects.filter(action=PURGED_ACTION).order_by("sequence"))
    assert len(entries) == outcome.batches
    assert sum(entry.data["count"] for entry in entries) == 5
    assert entries[0].data["table"] == "breakglass.Notification"
    assert entries[0].data["cutoff"] == notification_cutoff(now).isoformat()
    assert entries[0].data["oldest_id"] == rows[0].pk
    assert entries[-1].data["newest_id"] == rows[-1].pk


def test_a_dry_run_counts_and_deletes_nothing(requester: Any) -> None:
    notification(DeliveryStatus.SENT, days_old=800, recipient=requester)

    outcome = notifications_purge(dry_run=True)

    assert outcome.rows == 1
    assert outcome.dry_run
    assert Notification.objects.count() == 1
    assert not LedgerEntry.objects.filter(action=PURGED_ACTION).exists()


def test_the_task_purges_and_answers_how_many(requester: Any) -> None:
    notification(DeliveryStatus.FAILED, days_old=800, recipient=requester)

    assert purge_old_notifications() == 1
    assert not Notification.objects.exists()


def test_beat_purges_notifications_daily() -> None:
    schedule = {entry["task"]: entry["schedule"] for entry in celery_app.conf.beat_schedule.values()}

    assert schedule["breakglass.tasks.purge_old_notifications"] == 86400.0
