"""The workflow's Celery tasks: stable names (the beat schedule and the outbox reach them by name),
the delivery task's retries, and the sweep task calling the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from breakglass import tasks
from breakglass.models import AccessRequest, Notification
from breakglass.notifications import delivery, outbox
from breakglass.notifications.senders import DeliveryError
from portal.celery import app as celery_app


def test_every_task_is_registered_under_its_stable_name() -> None:
    names = {
        tasks.deliver_notification.name,
        tasks.requeue_stale_notifications.name,
        tasks.expire_access_requests.name,
        tasks.remind_overdue_checkouts.name,
    }
    assert names == {
        "breakglass.tasks.deliver_notification",
        "breakglass.tasks.requeue_stale_notifications",
        "breakglass.tasks.expire_access_requests",
        "breakglass.tasks.remind_overdue_checkouts",
    }
    assert names <= set(celery_app.tasks)
    assert tasks.deliver_notification.name == outbox.DELIVER_TASK


@pytest.mark.parametrize(
    ("entry", "task", "seconds"),
    [
        ("requeue-stale-notifications", "breakglass.tasks.requeue_stale_notifications", 300.0),
        ("expire-access-requests", "breakglass.tasks.expire_access_requests", 60.0),
        ("remind-overdue-checkouts", "breakglass.tasks.remind_overdue_checkouts", 60.0),
    ],
)
def test_the_beat_schedule_runs_the_workflow_tasks(entry: str, task: str, seconds: float) -> None:
    scheduled = celery_app.conf.beat_schedule[entry]
    assert scheduled["task"] == task
    assert scheduled["schedule"] == seconds
    assert scheduled["task"] in celery_app.tasks


def test_the_delivery_task_retries_with_backoff_and_late_acknowledgement() -> None:
    task: Any = tasks.deliver_notification
    assert task.max_retries == delivery.MAX_ATTEMPTS - 1 == 6
    assert task.acks_late is True
    assert DeliveryError in task.autoretry_for
    assert OSError in task.autoretry_for
    assert task.retry_backoff is True
    assert task.retry_backoff_max == 600
    assert task.retry_jitter is True


@pytest.mark.django_db
def test_the_sweep_task_hands_over_notifications_queued_for_more_than_ten_minutes(
    requester: Any, approver: Any, account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed_over: list[int] = []
    monkeypatch.setattr(
        tasks.deliver_notification,
        "apply_async",
        lambda args=None, kwargs=None, **_: handed_over.append(args[0]),
    )
    request = AccessRequest.objects.create(
        code="BG-0001",
        requester=requester,
        account=account,
        root_task="close_account",
        justification="Retiring the account after the migration.",
        starts_at=timezone.now(),
        duration_minutes=60,
    )
    nine = Notification.objects.create(request=request, event="request.created", recipient=approver)
    eleven = Notification.objects.create(request=request, event="request.created", recipient=approver)
    Notification.objects.filter(pk=nine.pk).update(updated_at=timezone.now() - timedelta(minutes=9))
    Notification.objects.filter(pk=eleven.pk).update(updated_at=timezone.now() - timedelta(minutes=11))

    assert tasks.requeue_stale_notifications() == 1
    assert handed_over == [eleven.pk]
