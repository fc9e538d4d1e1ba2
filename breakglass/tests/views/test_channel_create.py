"""``channel_create``: administrators add a channel after re-authenticating; a JSON webhook's signing
secret is shown once, targets are checked on the form, and the ledger records
``notification_channel.created`` without the target or the secret."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import NotificationChannel
from breakglass.notifications import senders
from breakglass.tests.views.support import SLACK_URL
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_adding_a_channel_asks_for_a_fresh_re_authentication(client: Client, administrator: Any) -> None:
    client.force_login(administrator)
    response = client.get(reverse("channels:channel_create"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


def test_adding_a_json_webhook_shows_its_signing_secret_once(
    admin_client: Client, administrator: Any, account: Any
) -> None:
    response = admin_client.post(
        reverse("channels:channel_create"),
        {
            "account": account.pk,
            "kind": "webhook",
            "name": "siem",
            "target": "https://siem.example.org/in?k=abc",
        },
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    channel = NotificationChannel.objects.get(name="siem")
    secret = response.context["secret"]
    assert len(secret) >= 40
    assert secret in response.content.decode()
    assert senders.open_signing_secret(channel) == secret.encode()
    assert secret.encode() not in bytes(channel.signing_secret)
    # Never again: neither the list nor the delete page shows it (or the URL's path and query).
    for url in (
        reverse("channels:channel_list"),
        reverse("channels:channel_delete", kwargs={"uuid": channel.uuid}),
    ):
        page = admin_client.get(url).content.decode()
        assert secret not in page
        assert "k=abc" not in page
        assert "https://siem.example.org/…" in page
    entry = LedgerEntry.objects.get(action="notification_channel.created")
    assert entry.actor_id == administrator.pk
    assert entry.data == {"kind": "webhook", "name": "siem", "account_id": "123456789012"}
    assert secret not in str(entry.data)
    assert "siem.example.org" not in str(entry.data)


def test_adding_a_slack_channel_for_all_accounts_goes_back_to_the_list(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("channels:channel_create"),
        {"account": "", "kind": "slack", "name": "#soc", "target": SLACK_URL},
    )

    assert response.status_code == 302
    channel = NotificationChannel.objects.get(name="#soc")
    assert channel.account is None
    assert channel.signing_secret is None
    entry = LedgerEntry.objects.get(action="notification_channel.created")
    assert entry.data == {"kind": "slack", "name": "#soc", "account_id": None}
    assert "tokenThatMustStaySecret" not in admin_client.get(response["Location"]).content.decode()


def test_a_target_that_is_not_an_http_url_is_refused_on_the_form(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("channels:channel_create"),
        {"account": "", "kind": "webhook", "name": "local", "target": "file:///etc/passwd"},
    )
    assert response.status_code == 200
    assert "Give an http:// or https:// URL." in response.content.decode()
    assert not NotificationChannel.objects.exists()


def test_the_add_form_preselects_the_account_from_the_list(admin_client: Client, account: Any) -> None:
    response = admin_client.get(reverse("channels:channel_create"), {"account": str(account.uuid)})
    assert response.status_code == 200
    assert response.context["form"].initial["account"] == account
