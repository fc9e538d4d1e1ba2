"""``channel_list``: the account and global channels, targets masked, filtered by account."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import NotificationChannel
from breakglass.notifications import services

pytestmark = pytest.mark.django_db


def test_the_list_shows_account_and_global_channels_with_targets_masked(
    admin_client: Client, administrator: Any, slack: NotificationChannel, account: Any, other_account: Any
) -> None:
    services.notification_channel_create(
        actor=administrator, account=None, kind="email", name="security-team", target="soc@example.org"
    )
    services.notification_channel_create(
        actor=administrator, account=other_account, kind="email", name="web-team", target="web@example.org"
    )

    everything = admin_client.get(reverse("channels:channel_list")).content.decode()
    one_account = admin_client.get(
        reverse("channels:channel_list"), {"account": str(account.uuid)}
    ).content.decode()

    assert "#payments-alerts" in everything
    assert "security-team" in everything
    assert "web-team" in everything
    assert "https://hooks.slack.com/…" in everything
    assert "tokenThatMustStaySecret" not in everything
    assert "/services/" not in everything
    assert "#payments-alerts" in one_account
    assert "security-team" in one_account
    assert "web-team" not in one_account


def test_an_unknown_account_filter_is_a_404(admin_client: Client) -> None:
    url = reverse("channels:channel_list")
    assert admin_client.get(url, {"account": "not-a-uuid"}).status_code == 404
    assert admin_client.get(url, {"account": "00000000-0000-0000-0000-000000000000"}).status_code == 404
