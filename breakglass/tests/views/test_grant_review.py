"""``grant_review``: an administrator confirms a grant is still needed and moves its expiry; the ledger
records ``grant.reviewed``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from breakglass.tests.factories import GrantFactory
from breakglass.tests.views.support import ledger_entry

pytestmark = pytest.mark.django_db


def test_an_administrator_reviews_a_grant_and_moves_its_expiry(
    client: Client, administrator: Any, requester: Any, account: Any
) -> None:
    grant = GrantFactory(user=requester, account=account)
    keep_until = timezone.localtime() + timedelta(days=30)
    client.force_login(administrator)
    response = client.post(
        reverse("breakglass:grant_review", kwargs={"uuid": grant.uuid}),
        {"expires_at": keep_until.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.last_reviewed_by == administrator
    assert grant.expires_at.replace(second=0, microsecond=0) == keep_until.replace(second=0, microsecond=0)
    assert ledger_entry("grant.reviewed", grant).actor == administrator
