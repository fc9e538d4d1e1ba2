"""``grant_revoke``: an administrator ends a person's right to ask for root, after a confirmation
page and a fresh second factor; the ledger records ``grant.revoked``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.tests.factories import GrantFactory
from breakglass.tests.views.support import ledger_entry
from ledger.models import LedgerEntry
from portal.testing import step_up

pytestmark = pytest.mark.django_db


def test_an_administrator_revokes_a_grant(
    client: Client, administrator: Any, requester: Any, account: Any
) -> None:
    grant = GrantFactory(user=requester, account=account)
    client.force_login(administrator)
    step_up(client, administrator)
    url = reverse("breakglass:grant_revoke", kwargs={"uuid": grant.uuid})
    page = client.get(url).content.decode()
    assert "rita.requester" in page
    assert f"grant on {account}?" in page
    assert "can no longer request the root user" in page
    response = client.post(url, {"confirmed": "yes"})
    assert response.status_code == 302
    assert response["Location"] == reverse("breakglass:account_detail", kwargs={"uuid": account.uuid})
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert ledger_entry("grant.revoked", grant).actor == administrator


def test_a_post_without_confirmation_shows_the_page_and_revokes_nothing(
    client: Client, administrator: Any, requester: Any, account: Any
) -> None:
    grant = GrantFactory(user=requester, account=account)
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(reverse("breakglass:grant_revoke", kwargs={"uuid": grant.uuid}))
    assert response.status_code == 200
    grant.refresh_from_db()
    assert grant.revoked_at is None
    assert not LedgerEntry.objects.filter(action="grant.revoked").exists()


def test_a_confirmed_post_without_a_fresh_second_factor_is_sent_to_step_up(
    client: Client, administrator: Any, requester: Any, account: Any
) -> None:
    grant = GrantFactory(user=requester, account=account)
    client.force_login(administrator)
    response = client.post(
        reverse("breakglass:grant_revoke", kwargs={"uuid": grant.uuid}), {"confirmed": "yes"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    grant.refresh_from_db()
    assert grant.revoked_at is None
