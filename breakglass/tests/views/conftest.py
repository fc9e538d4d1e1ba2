"""Fixtures of the break-glass page tests: an account whose password the portal keeps, its MFA device,
a pending request on it, clients signed in (and stepped up) as any persona, and a Slack channel with
an administrator's stepped-up client for the channel pages."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.test import Client

from breakglass import services
from breakglass.models import AccessRequest, NotificationChannel
from breakglass.notifications import services as channel_services
from breakglass.tests.factories import MfaDeviceFactory
from breakglass.tests.lifecycle_helpers import make_request
from breakglass.tests.views.support import PASSWORD, SLACK_URL
from portal.testing import step_up


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Saving a webhook channel resolves its host (to refuse local addresses); here no name resolves,
    so no query leaves the machine and the channel is saved (its address is checked when sending)."""

    def unresolvable(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unresolvable)


@pytest.fixture
def portal_account(administrator: Any, account: Any) -> Any:
    """payments-prod: quorum 1 (alan.approver), custodian carl, password kept in the portal."""
    services.root_credential_store_in_portal(actor=administrator, account=account, password=PASSWORD)
    return account


@pytest.fixture
def device(administrator: Any, account: Any) -> Any:
    key = MfaDeviceFactory(label="YubiKey Payments")
    services.mfa_device_assign(actor=administrator, device=key, account=account)
    return key


@pytest.fixture
def pending(requester: Any, portal_account: Any) -> AccessRequest:
    return make_request(requester, portal_account)


@pytest.fixture
def slack(administrator: Any, account: Any) -> NotificationChannel:
    channel, _ = channel_services.notification_channel_create(
        actor=administrator, account=account, kind="slack", name="#payments-alerts", target=SLACK_URL
    )
    return channel


@pytest.fixture
def admin_client(client: Client, administrator: Any) -> Client:
    """The administrator persona, stepped up.

    It replaces pytest-django's ``admin_client`` here: the portal's administrator is a role, not a
    Django superuser.
    """
    client.force_login(administrator)
    step_up(client, administrator)
    return client
