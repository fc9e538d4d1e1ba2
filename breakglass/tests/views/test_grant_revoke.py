"""``grant_revoke``: an administrator ends a person's right to ask for root; the ledger records
``grant.revoked``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.tests.factories import GrantFactory
from breakglass.tests.views.support import ledger_entry

pytestmark = pytest.mark.django_db


def test_an_administrator_revokes_a_grant(
    client: Client, administrator: Any, requester: Any, account: Any
) -> None:
    grant = GrantFactory(user=requester, account=account)
    client.force_login(administrator)
    response = client.post(reverse("breakglass:grant_revoke", kwargs={"uuid": grant.uuid}))
    assert response.status_code == 302
    assert response["Location"] == reverse("breakglass:account_detail", kwargs={"uuid": account.uuid})
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert ledger_entry("grant.revoked", grant).actor == administrator
