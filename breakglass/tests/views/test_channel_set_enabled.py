"""``channel_set_enabled``: disabling a channel needs a fresh re-authentication, enabling does not;
the ledger records both."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import NotificationChannel
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_disabling_a_channel_asks_for_a_fresh_re_authentication_but_enabling_does_not(
    client: Client, administrator: Any, slack: NotificationChannel
) -> None:
    client.force_login(administrator)
    url = reverse("channels:channel_set_enabled", kwargs={"uuid": slack.uuid})

    response = client.post(url, {"enabled": "false"})
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert NotificationChannel.objects.get(pk=slack.pk).enabled

    NotificationChannel.objects.filter(pk=slack.pk).update(enabled=False)
    client.post(url, {"enabled": "true"})
    assert NotificationChannel.objects.get(pk=slack.pk).enabled


def test_disabling_and_enabling_a_channel_are_recorded(
    admin_client: Client, slack: NotificationChannel
) -> None:
    url = reverse("channels:channel_set_enabled", kwargs={"uuid": slack.uuid})

    asked = admin_client.post(url, {"enabled": "false"})
    assert "Disable the channel #payments-alerts?" in asked.content.decode()
    assert NotificationChannel.objects.get(pk=slack.pk).enabled
    admin_client.post(url, {"enabled": "false", "confirmed": "yes"})
    assert not NotificationChannel.objects.get(pk=slack.pk).enabled
    admin_client.post(url, {"enabled": "true"})
    assert NotificationChannel.objects.get(pk=slack.pk).enabled

    actions = list(
        LedgerEntry.objects.filter(action__startswith="notification_channel.").values_list(
            "action", flat=True
        )
    )
    assert actions[-2:] == ["notification_channel.disabled", "notification_channel.enabled"]
    entry = LedgerEntry.objects.get(action="notification_channel.disabled")
    assert entry.data == {"kind": "slack", "name": "#payments-alerts", "account_id": "123456789012"}
