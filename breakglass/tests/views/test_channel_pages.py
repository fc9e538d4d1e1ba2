"""The notification channel pages: administrators only, re-authentication for adding, disabling and
deleting, the signing secret shown once, targets masked, and a ledger entry for every change."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import Notification, NotificationChannel
from breakglass.notifications import senders, services
from ledger.models import LedgerEntry
from portal.celery import app as celery_app
from portal.testing import step_up

pytestmark = pytest.mark.django_db

SLACK_URL = "https://hooks.slack.com/services/T0000/B0000/tokenThatMustStaySecret"


@pytest.fixture
def slack(administrator: Any, account: Any) -> NotificationChannel:
    channel, _ = services.notification_channel_create(
        actor=administrator, account=account, kind="slack", name="#payments-alerts", target=SLACK_URL
    )
    return channel


@pytest.fixture
def admin_client(client: Client, administrator: Any) -> Client:
    client.force_login(administrator)
    step_up(client, administrator)
    return client


def pages(channel: NotificationChannel) -> list[tuple[str, str]]:
    uuid = {"uuid": channel.uuid}
    return [
        ("get", reverse("channels:channel_list")),
        ("get", reverse("channels:channel_create")),
        ("post", reverse("channels:channel_create")),
        ("post", reverse("channels:channel_set_enabled", kwargs=uuid)),
        ("get", reverse("channels:channel_delete", kwargs=uuid)),
        ("post", reverse("channels:channel_delete", kwargs=uuid)),
        ("post", reverse("channels:channel_test", kwargs=uuid)),
    ]


# --- Who may ---------------------------------------------------------------------------------


# Anonymous visitors and people without a role: portal/tests/test_url_guards.py, for every URL.


@pytest.mark.parametrize("persona", ["auditor", "approver", "custodian", "requester"])
def test_everyone_but_administrators_is_refused(
    client: Client, request: pytest.FixtureRequest, slack: NotificationChannel, persona: str
) -> None:
    user = request.getfixturevalue(persona)
    client.force_login(user)
    step_up(client, user)
    for method, url in pages(slack):
        assert getattr(client, method)(url).status_code == 403, url
    assert NotificationChannel.objects.get(pk=slack.pk).enabled
    assert not Notification.objects.exists()


def test_adding_a_channel_asks_for_a_fresh_re_authentication(client: Client, administrator: Any) -> None:
    client.force_login(administrator)
    response = client.get(reverse("channels:channel_create"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


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


# --- The list --------------------------------------------------------------------------------


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


# --- Adding ----------------------------------------------------------------------------------


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


# --- Changing --------------------------------------------------------------------------------


def test_disabling_and_enabling_a_channel_are_recorded(
    admin_client: Client, slack: NotificationChannel
) -> None:
    url = reverse("channels:channel_set_enabled", kwargs={"uuid": slack.uuid})

    admin_client.post(url, {"enabled": "false"})
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


def test_deleting_a_channel_asks_first_then_deletes_and_records_it(
    admin_client: Client, slack: NotificationChannel
) -> None:
    url = reverse("channels:channel_delete", kwargs={"uuid": slack.uuid})

    confirm = admin_client.get(url)
    assert confirm.status_code == 200
    assert "tokenThatMustStaySecret" not in confirm.content.decode()
    assert NotificationChannel.objects.filter(pk=slack.pk).exists()

    response = admin_client.post(url)

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
