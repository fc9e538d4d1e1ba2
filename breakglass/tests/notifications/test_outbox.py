"""The outbox: rows written in the caller's transaction, handed to Celery by task name only after the
commit, and swept again when the hand-over failed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from breakglass import secrets
from breakglass.models import AccessRequest, Notification, NotificationChannel, RootCredential
from breakglass.notifications import outbox, services
from breakglass.tests.factories import AwsAccountFactory
from ledger.models import LedgerEntry
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def queued(request: AccessRequest, **fields: Any) -> Notification:
    values: dict[str, Any] = {"request": request, "event": "request.created", "subject": "s", "body": "b"}
    values.update(fields)
    return Notification.objects.create(**values)


# --- Writing rows ---------------------------------------------------------------------------


def test_one_row_per_person_and_per_channel_is_written_queued(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    second_approver: Any,
    account: Any,
    channels_of: dict[str, NotificationChannel],
) -> None:
    account.approvers.add(second_approver)
    request = make_request()

    rows = outbox.queue(event="request.created", request=request, actor=requester)

    assert [(row.recipient.username if row.recipient else row.channel.name) for row in rows] == [  # type: ignore[union-attr]
        "alan.approver",
        "anna.approver",
        "payments-team",
    ]
    assert all(row.event == "request.created" and row.request == request for row in rows)
    assert all(row.status == "queued" and row.attempts == 0 for row in rows)
    assert Notification.objects.count() == 3


def test_an_unknown_event_writes_nothing(make_request: Callable[..., AccessRequest]) -> None:
    with pytest.raises(ValueError, match=r"request\.exploded"):
        outbox.queue(event="request.exploded", request=make_request())
    assert Notification.objects.count() == 0


def test_nobody_to_tell_writes_nothing(make_request: Callable[..., AccessRequest], requester: Any) -> None:
    elsewhere = AwsAccountFactory(name="elsewhere")
    assert (
        outbox.queue(event="request.created", request=make_request(account=elsewhere), actor=requester) == []
    )
    assert Notification.objects.count() == 0


def test_a_json_webhook_row_keeps_the_payload_as_it_was_at_the_event(
    make_request: Callable[..., AccessRequest], requester: Any, administrator: Any, account: Any
) -> None:
    channel, _ = services.notification_channel_create(
        actor=administrator,
        account=account,
        kind="webhook",
        name="siem",
        target="https://siem.example.org/in",
    )
    request = make_request(emergency=True)

    rows = outbox.queue(event="request.emergency", request=request, actor=requester, note="db down")

    (row,) = [row for row in rows if row.channel == channel]
    payload = json.loads(row.body)
    assert payload["event"] == "request.emergency"
    assert payload["note"] == "db down"
    assert payload["request"]["status"] == "pending"
    assert payload["request"]["url"] == f"http://127.0.0.1:8000/inventory/requests/{request.uuid}/"


def test_no_secret_ends_up_in_a_notification(
    make_request: Callable[..., AccessRequest], requester: Any, administrator: Any, account: Any
) -> None:
    credential = RootCredential(account=account, storage="portal")
    secrets.seal_root_password(credential=credential, plaintext="Root-Password-Do-Not-Leak-42")
    credential.save()
    services.notification_channel_create(
        actor=administrator,
        account=account,
        kind="slack",
        name="#sec",
        target="https://hooks.slack.com/services/T0/B0/tokenDoNotLeak",
    )
    _, signing_secret = services.notification_channel_create(
        actor=administrator, account=None, kind="webhook", name="siem", target="https://siem.example.org/in"
    )

    rows = outbox.queue(event="request.emergency", request=make_request(), actor=requester)

    assert len(rows) >= 5
    for row in rows:
        text = row.subject + row.body
        assert "Root-Password-Do-Not-Leak-42" not in text
        assert "tokenDoNotLeak" not in text
        assert signing_secret not in text
        assert "siem.example.org" not in text


def test_an_alert_is_written_for_its_audience(
    approver: Any, custodian: Any, account: Any, channels_of: dict[str, NotificationChannel]
) -> None:
    rows = outbox.queue_alert(
        finding_summary="Root signed in without approval.",
        subject="F-0001 Root used without approval: payments-prod",
        account=account,
        payload={"code": "F-0001"},
    )

    assert [row.recipient.username for row in rows if row.recipient] == ["alan.approver", "carl.custodian"]
    assert [row.channel.name for row in rows if row.channel] == ["payments-team"]
    assert {row.event for row in rows} == {"finding.alert"}
    assert all(row.request is None for row in rows)


# --- Handing over after the commit ----------------------------------------------------------


def test_the_delivery_task_is_reached_by_its_name() -> None:
    # breakglass.apps registers the tasks in every process, so the name resolves to the task.
    assert celery_app.tasks[outbox.DELIVER_TASK].name == "breakglass.tasks.deliver_notification"


def test_nothing_is_queued_or_sent_when_the_transaction_rolls_back(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    mailoutbox: list[Any],
    handed_over: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = make_request()

    def change_that_fails() -> None:
        with transaction.atomic():
            outbox.queue(event="request.created", request=request, actor=requester)
            assert Notification.objects.count() == 1
            raise RuntimeError("the transition failed after queueing")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError, match="the transition failed"),
    ):
        change_that_fails()

    assert callbacks == []
    assert handed_over == []
    assert Notification.objects.count() == 0
    assert mailoutbox == []


def test_delivery_is_handed_to_celery_only_after_the_commit(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    handed_over: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (row,) = outbox.queue(event="request.created", request=make_request(), actor=requester)
        assert handed_over == []

    assert handed_over == []
    for callback in callbacks:
        callback()
    assert handed_over == [row.pk]


def test_in_eager_mode_the_task_runs_in_place_after_the_commit(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    mailoutbox: list[Any],
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = make_request()

    with django_capture_on_commit_callbacks(execute=True):
        (row,) = outbox.queue(event="request.created", request=request, actor=requester)
        assert mailoutbox == []

    (mail,) = mailoutbox
    assert mail.to == [approver.email]
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)
    assert row.sent_at is not None
    entry = LedgerEntry.objects.get(action="notification.sent")
    assert entry.data == {"event": "request.created", "recipient": "alan.approver", "attempts": 1}
    assert entry.target_id == str(request.uuid)


def test_a_broker_that_is_down_at_commit_leaves_the_notification_queued_for_the_sweep(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    broker_down: None,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = outbox.queue(event="request.created", request=make_request(), actor=requester)

    row.refresh_from_db()
    assert row.status == "queued"
    assert "requeue_stale_notifications will retry" in caplog.text
    assert "hunter2" not in caplog.text


# --- The sweep ------------------------------------------------------------------------------


def test_the_sweep_requeues_only_notifications_queued_and_untouched_for_ten_minutes(
    access_request: AccessRequest, approver: Any, handed_over: list[int]
) -> None:
    long_ago = timezone.now() - timedelta(minutes=11)
    stale = queued(access_request, recipient=approver)
    fresh = queued(access_request, recipient=approver)
    sent = queued(access_request, recipient=approver, status="sent")
    Notification.objects.filter(pk__in=[stale.pk, sent.pk]).update(created_at=long_ago, updated_at=long_ago)

    assert outbox.notifications_requeue_stale(older_than_minutes=10) == 1
    assert handed_over == [stale.pk]
    # Handed over again just now: the next sweep leaves it to the worker.
    assert outbox.notifications_requeue_stale(older_than_minutes=10) == 0
    assert handed_over == [stale.pk]
    assert fresh.pk not in handed_over
    assert sent.pk not in handed_over


def test_the_sweep_stops_quietly_while_the_broker_is_down(
    access_request: AccessRequest, approver: Any, broker_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    stale = queued(access_request, recipient=approver)
    long_ago = timezone.now() - timedelta(minutes=30)
    Notification.objects.filter(pk=stale.pk).update(updated_at=long_ago)

    assert outbox.notifications_requeue_stale(older_than_minutes=10) == 0
    assert "hunter2" not in caplog.text
    stale.refresh_from_db()
    assert stale.updated_at == long_ago


def test_the_sweep_reads_the_partial_outbox_index(access_request: AccessRequest, approver: Any) -> None:
    queued(access_request, recipient=approver)
    with connection.cursor() as cursor:
        # Only in this test's transaction: the table is tiny, so make the planner show whether the
        # index can serve the query at all (it cannot unless the query implies the index condition).
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = outbox.stale_notifications(cutoff=timezone.now()).explain()
    assert "notification_to_send_idx" in plan
