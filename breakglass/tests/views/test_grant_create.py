"""``grant_create``: an administrator lets a person ask for root of an account."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from breakglass.tests.views.support import ledger_entry
from portal.testing import step_up

pytestmark = pytest.mark.django_db


def test_granting_access_through_the_page(
    client: Client, administrator: Any, requester: Any, account: Any
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(
        reverse("breakglass:grant_create", kwargs={"uuid": account.uuid}),
        {
            "user": requester.pk,
            "expires_at": (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    grant = account.grants.get(user=requester, revoked_at__isnull=True)
    assert ledger_entry("grant.created", grant).actor == administrator


def test_without_a_fresh_second_factor_nobody_is_granted(
    client: Client, administrator: Any, requester: Any, account: Any
) -> None:
    client.force_login(administrator)
    response = client.post(
        reverse("breakglass:grant_create", kwargs={"uuid": account.uuid}),
        {
            "user": requester.pk,
            "expires_at": (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not account.grants.exists()


def test_a_grant_beyond_the_maximum_is_refused_naming_the_limit(
    client: Client, administrator: Any, requester: Any, account: Any, settings: Any
) -> None:
    settings.PORTAL_GRANT_MAX_DAYS = 90
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(
        reverse("breakglass:grant_create", kwargs={"uuid": account.uuid}),
        {"user": requester.pk, "expires_at": "9999-12-31T23:59"},
    )
    assert response.status_code == 200
    assert "at most 90 days" in response.content.decode()
    assert not account.grants.exists()
