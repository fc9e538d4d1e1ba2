"""``channel_test``: a test message is queued and delivered after the commit (the ledger records
``notification_channel.test_queued``); a disabled channel is sent nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import Notification, NotificationChannel
from breakglass.notifications import services
from ledger.models import LedgerEntry
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_send_test_queues_a_message_delivered_after_the_commit(
    admin_client: Client,
    administrator: Any,
    account: Any,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    channel, _ = services.notification_channel_create(
        actor=administrator, account=account, kind="email", name="team", target="team@example.org"
    )
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(reverse("channels:channel_test", kwargs={"uuid": channel.uuid}))
    finally:
        celery_app.conf.task_always_eager = previous

    assert response.status_code == 302
    (mail,) = mailoutbox
    assert mail.to == ["team@example.org"]
    assert mail.subject == "[Break-glass] Test message to channel team"
    assert "test message" in mail.body
    notification = Notification.objects.get(channel=channel)
    assert (notification.event, notification.status, notification.request) == ("channel.test", "sent", None)
    assert LedgerEntry.objects.filter(action="notification_channel.test_queued").count() == 1
    page = admin_client.get(reverse("channels:channel_list")).content.decode()
    assert "channel.test" in page
    assert "Sent" in page


def test_a_disabled_channel_cannot_be_sent_a_test(admin_client: Client, slack: NotificationChannel) -> None:
    NotificationChannel.objects.filter(pk=slack.pk).update(enabled=False)

    response = admin_client.post(reverse("channels:channel_test", kwargs={"uuid": slack.uuid}), follow=True)

    assert "Enable the channel before sending it a test message." in response.content.decode()
    assert not Notification.objects.exists()
