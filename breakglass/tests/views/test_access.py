"""Who may change the inventory and the notification channels: auditors look but never change the
inventory; only administrators reach the channel pages.

That anonymous visitors and people without a role reach no page at all is proven for every URL by
``portal/tests/test_url_guards.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import Notification, NotificationChannel
from breakglass.tests.factories import GrantFactory, MfaDeviceFactory
from portal.testing import step_up

pytestmark = pytest.mark.django_db

# (url name, which kwargs, method) of the pages that change the inventory
CHANGES = [
    ("breakglass:account_create", None, "get"),
    ("breakglass:account_edit", "account", "get"),
    ("breakglass:credential_edit", "account", "get"),
    ("breakglass:device_assign", "account", "post"),
    ("breakglass:device_unassign", "account_device", "post"),
    ("breakglass:grant_create", "account", "get"),
    ("breakglass:grant_revoke", "grant", "post"),
    ("breakglass:grant_review", "grant", "get"),
    ("breakglass:device_create", None, "get"),
    ("breakglass:device_edit", "device", "get"),
]


@pytest.fixture
def objects(account: Any) -> dict[str, Any]:
    device = MfaDeviceFactory()
    grant = GrantFactory(account=account)
    return {
        None: {},
        "account": {"uuid": account.uuid},
        "account_device": {"uuid": account.uuid, "device_uuid": device.uuid},
        "device": {"uuid": device.uuid},
        "grant": {"uuid": grant.uuid},
    }


@pytest.mark.parametrize(("name", "which", "method"), CHANGES)
def test_auditors_cannot_change_the_inventory(
    client: Client, auditor: Any, objects: dict[str, Any], name: str, which: str | None, method: str
) -> None:
    client.force_login(auditor)
    response = getattr(client, method)(reverse(name, kwargs=objects[which]))
    assert response.status_code == 403


# --- The notification channel pages ----------------------------------------------------------


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
