"""``channel_delete``: asks first, then deletes; the ledger records ``notification_channel.deleted``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import NotificationChannel
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_deleting_a_channel_asks_first_then_deletes_and_records_it(
    admin_client: Client, slack: NotificationChannel
) -> None:
    url = reverse("channels:channel_delete", kwargs={"uuid": slack.uuid})

    confirm = admin_client.get(url)
    assert confirm.status_code == 200
    assert "tokenThatMustStaySecret" not in confirm.content.decode()
    assert NotificationChannel.objects.filter(pk=slack.pk).exists()

    unconfirmed = admin_client.post(url)
    assert unconfirmed.status_code == 200
    assert "Delete the channel #payments-alerts?" in unconfirmed.content.decode()
    assert NotificationChannel.objects.filter(pk=slack.pk).exists()

    response = admin_client.post(url, {"confirmed": "yes"})

    assert response.status_code == 302
    assert not NotificationChannel.objects.filter(pk=slack.pk).exists()
    entry = LedgerEntry.objects.get(action="notification_channel.deleted")
    assert entry.target_id == str(slack.uuid)
    assert entry.data == {
        "kind": "slack",
        "name": "#payments-alerts",
        "account_id": "123456789012",
        "queued_dropped": 0,
    }


def test_a_confirmed_delete_without_a_fresh_second_factor_deletes_nothing(
    client: Client, administrator: Any, slack: NotificationChannel
) -> None:
    client.force_login(administrator)
    url = reverse("channels:channel_delete", kwargs={"uuid": slack.uuid})
    response = client.post(url, {"confirmed": "yes"})
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert NotificationChannel.objects.filter(pk=slack.pk).exists()
