"""Delivery: sent once, retried while it may help, failed for good with a ledger entry, and never a
secret in an error or a log line. Run through the Celery task, which owns the retries."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import connection, transaction

from breakglass.models import AccessRequest, Notification, NotificationChannel
from breakglass.notifications import delivery, outbox, services
from breakglass.notifications.senders import DeliveryError, verify_signature
from breakglass.tasks import deliver_notification
from breakglass.tests.notifications.http_receiver import SLACK_TOKEN_PATH, Receiver, closed_port_url
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def queued(request: AccessRequest, **fields: Any) -> Notification:
    values: dict[str, Any] = {"request": request, "event": "request.created", "subject": "s", "body": "b"}
    values.update(fields)
    return Notification.objects.create(**values)


# --- Success --------------------------------------------------------------------------------


def test_an_email_is_sent_once_and_recorded(
    access_request: AccessRequest, approver: Any, mailoutbox: list[Any]
) -> None:
    notification = queued(access_request, recipient=approver, subject="Hello", body="Body")

    assert deliver_notification(notification.pk) == "sent"
    assert deliver_notification(notification.pk) == "skipped"

    (mail,) = mailoutbox
    assert mail.to == [approver.email]
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.last_error) == ("sent", 1, "")
    assert LedgerEntry.objects.filter(action="notification.sent").count() == 1


def test_a_signed_webhook_arrives_after_the_commit_of_an_emergency(
    receiver: Receiver,
    access_request: AccessRequest,
    requester: Any,
    administrator: Any,
    account: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
) -> None:
    channel, secret = services.notification_channel_create(
        actor=administrator, account=None, kind="webhook", name="siem", target=receiver.url("/siem?key=abc")
    )

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.queue(event="request.emergency", request=access_request, actor=requester, note="db down")
        # Nothing leaves while the transaction is open.
        assert receiver.received == []
        assert mailoutbox == []

    (got,) = receiver.received
    assert got.path == "/siem?key=abc"
    assert verify_signature(
        secret.encode(),
        got.headers["X-Breakglass-Timestamp"],
        got.body,
        got.headers["X-Breakglass-Signature"],
    )
    assert not verify_signature(
        b"not-the-secret",
        got.headers["X-Breakglass-Timestamp"],
        got.body,
        got.headers["X-Breakglass-Signature"],
    )
    payload = json.loads(got.body)
    assert payload["event"] == "request.emergency"
    assert payload["request"]["code"] == "BG-0042"
    assert payload["request"]["account_id"] == "123456789012"
    assert payload["note"] == "db down"
    assert payload["sent_at"]
    assert {mail.to[0] for mail in mailoutbox} == {
        "rita.requester@example.org",
        "alan.approver@example.org",
        "carl.custodian@example.org",
        "ada.admin@example.org",
    }
    row = Notification.objects.get(channel=channel)
    assert row.status == "sent"
    entry = LedgerEntry.objects.get(action="notification.sent", data__channel="siem")
    assert entry.data == {"event": "request.emergency", "channel": "siem", "kind": "webhook", "attempts": 1}


# --- Failure and retries --------------------------------------------------------------------


def test_a_server_error_keeps_the_notification_queued_records_the_attempt_and_raises_for_retry(
    receiver: Receiver,
    access_request: AccessRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.status = 500
    channel = NotificationChannel.objects.create(
        account=access_request.account, kind="slack", name="#sec", target=receiver.url(SLACK_TOKEN_PATH)
    )
    notification = queued(access_request, channel=channel)

    with caplog.at_level("DEBUG"), pytest.raises(DeliveryError):
        deliver_notification(notification.pk)

    notification.refresh_from_db()
    assert notification.status == "queued"
    assert notification.attempts == 1
    assert notification.last_error == f"{receiver.base_url} answered HTTP 500"
    assert "xoxSecretToken" not in notification.last_error
    assert "xoxSecretToken" not in caplog.text
    assert "#sec" in caplog.text
    assert not LedgerEntry.objects.filter(action__startswith="notification.").exists()


def test_a_closed_port_is_retried_and_the_last_retry_marks_it_failed_with_a_ledger_entry(
    access_request: AccessRequest, local_webhooks_allowed: None
) -> None:
    channel = NotificationChannel.objects.create(
        account=access_request.account, kind="slack", name="#sec", target=closed_port_url()
    )
    notification = queued(access_request, channel=channel)

    with pytest.raises(DeliveryError):
        deliver_notification(notification.pk)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("queued", 1)
    assert "could not be reached" in notification.last_error

    # What the worker runs on the sixth and last retry.
    result = deliver_notification.apply(args=[notification.pk], retries=6)

    assert result.get() == "failed"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", 2)
    entry = LedgerEntry.objects.get(action="notification.failed")
    assert entry.target_id == str(access_request.uuid)
    assert entry.data["event"] == "request.created"
    assert entry.data["channel"] == "#sec"
    assert entry.data["attempts"] == 2


def test_eager_retries_end_failed_after_seven_attempts(
    receiver: Receiver,
    access_request: AccessRequest,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
    account: Any,
    requester: Any,
) -> None:
    receiver.status = 503
    NotificationChannel.objects.create(account=account, kind="slack", name="#sec", target=receiver.url())

    with django_capture_on_commit_callbacks(execute=True):
        outbox.queue(event="request.checked_out", request=access_request, actor=requester)

    row = Notification.objects.get(channel__name="#sec")
    assert (row.status, row.attempts) == ("failed", delivery.MAX_ATTEMPTS)
    assert len(receiver.received) == delivery.MAX_ATTEMPTS
    assert LedgerEntry.objects.filter(action="notification.failed").count() == 1


def test_a_refusal_that_retrying_cannot_fix_fails_at_once(
    receiver: Receiver,
    access_request: AccessRequest,
) -> None:
    receiver.status = 410
    channel = NotificationChannel.objects.create(
        account=access_request.account, kind="slack", name="#sec", target=receiver.url()
    )
    notification = queued(access_request, channel=channel)

    assert deliver_notification(notification.pk) == "failed"

    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", 1)
    assert "HTTP 410" in notification.last_error


def test_the_webhook_secret_and_url_never_reach_the_error_or_the_logs(
    receiver: Receiver,
    access_request: AccessRequest,
    administrator: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.status = 500
    channel, secret = services.notification_channel_create(
        actor=administrator,
        account=access_request.account,
        kind="webhook",
        name="siem",
        target=receiver.url("/ingest/tokenInThePath?api_key=tokenInTheQuery"),
    )
    outbox.queue(event="request.checked_out", request=access_request)
    row = Notification.objects.get(channel=channel)

    with caplog.at_level("DEBUG"):
        with pytest.raises(DeliveryError):
            deliver_notification(row.pk)
        deliver_notification.apply(args=[row.pk], retries=6)

    row.refresh_from_db()
    assert row.status == "failed"
    for text in (
        row.last_error,
        caplog.text,
        json.dumps(LedgerEntry.objects.get(action="notification.failed").data),
    ):
        assert secret not in text
        assert "tokenInThePath" not in text
        assert "tokenInTheQuery" not in text


def test_a_person_without_an_email_address_any_more_fails_at_once(
    access_request: AccessRequest, approver: Any, mailoutbox: list[Any]
) -> None:
    notification = queued(access_request, recipient=approver)
    approver.email = ""
    approver.save()

    assert deliver_notification(notification.pk) == "failed"
    assert mailoutbox == []


def test_a_channel_disabled_or_deleted_before_delivery_is_not_sent_to(
    access_request: AccessRequest, administrator: Any, mailoutbox: list[Any]
) -> None:
    channel, _ = services.notification_channel_create(
        actor=administrator, account=access_request.account, kind="email", name="team", target="t@example.org"
    )
    disabled_first = queued(access_request, channel=channel)
    services.notification_channel_set_enabled(actor=administrator, channel=channel, enabled=False)
    assert deliver_notification(disabled_first.pk) == "failed"

    services.notification_channel_set_enabled(actor=administrator, channel=channel, enabled=True)
    deleted_first = queued(access_request, channel=channel)
    services.notification_channel_delete(actor=administrator, channel=channel)
    deleted_first.refresh_from_db()
    assert deleted_first.status == "failed"
    assert deleted_first.last_error == "the channel was deleted before delivery"
    assert deliver_notification(deleted_first.pk) == "skipped"
    assert mailoutbox == []


def test_an_unknown_notification_is_reported_missing() -> None:
    assert deliver_notification(987654321) == "missing"


@pytest.mark.django_db(transaction=True)
def test_a_notification_another_worker_is_sending_is_left_alone(
    access_request: AccessRequest, approver: Any, mailoutbox: list[Any]
) -> None:
    notification = queued(access_request, recipient=approver)
    locked = threading.Event()
    release = threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                Notification.objects.select_for_update().get(pk=notification.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(timeout=10)
        assert deliver_notification(notification.pk) == "busy"
    finally:
        release.set()
        thread.join(timeout=10)

    assert mailoutbox == []
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("queued", 0)
