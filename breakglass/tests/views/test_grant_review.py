"""``grant_review``: an administrator confirms a grant is still needed and moves its expiry, after a
fresh second factor and within ``PORTAL_GRANT_MAX_DAYS``; the ledger records ``grant.reviewed``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from breakglass.tests.factories import GrantFactory
from breakglass.tests.views.support import ledger_entry
from ledger.models import LedgerEntry
from portal.testing import step_up

pytestmark = pytest.mark.django_db


def _url(grant: Any) -> str:
    return reverse("breakglass:grant_review", kwargs={"uuid": grant.uuid})


def test_without_a_fresh_second_factor_the_expiry_does_not_move(
    client: Client, administrator: Any, requester: Any, account: Any
) -> None:
    grant = GrantFactory(user=requester, account=account)
    before = grant.expires_at
    client.force_login(administrator)
    response = client.post(_url(grant), {"expires_at": "9999-12-31T23:59"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    grant.refresh_from_db()
    assert grant.expires_at == before
    assert not LedgerEntry.objects.filter(action="grant.reviewed").exists()


def test_an_expiry_in_9999_is_refused_naming_the_limit(
    client: Client, administrator: Any, requester: Any, account: Any
) -> None:
    grant = GrantFactory(user=requester, account=account)
    before = grant.expires_at
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(_url(grant), {"expires_at": "9999-12-31T23:59"})
    assert response.status_code == 200
    assert "at most 365 days" in response.content.decode()
    grant.refresh_from_db()
    assert grant.expires_at == before


def test_an_administrator_reviews_a_grant_and_moves_its_expiry(
    client: Client, administrator: Any, requester: Any, account: Any
) -> None:
    grant = GrantFactory(user=requester, account=account)
    keep_until = timezone.localtime() + timedelta(days=30)
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(_url(grant), {"expires_at": keep_until.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.last_reviewed_by == administrator
    assert grant.expires_at.replace(second=0, microsecond=0) == keep_until.replace(second=0, microsecond=0)
    assert ledger_entry("grant.reviewed", grant).actor == administrator
