"""``credential_edit``: where an account's root password lives; a password given here never comes
back in a page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import RootCredential
from breakglass.tests.views.support import ledger_entry
from portal.testing import step_up

pytestmark = pytest.mark.django_db


def test_an_administrator_stores_a_root_password_that_never_comes_back_in_the_page(
    client: Client, administrator: Any, account: Any
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    url = reverse("breakglass:credential_edit", kwargs={"uuid": account.uuid})
    secret = "Correct-Horse-Battery-Staple-99"
    response = client.post(url, {"storage": "portal", "password": secret, "password_again": secret})
    assert response.status_code == 302
    credential = RootCredential.objects.get(account=account)
    assert credential.storage == "portal"
    assert ledger_entry("root_credential.stored_in_portal", credential).actor == administrator
    assert secret not in client.get(url).content.decode()
    detail = client.get(reverse("breakglass:account_detail", kwargs={"uuid": account.uuid})).content.decode()
    assert secret not in detail


def test_a_mistyped_password_confirmation_keeps_nothing_and_says_so(
    client: Client, administrator: Any, account: Any
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    url = reverse("breakglass:credential_edit", kwargs={"uuid": account.uuid})
    response = client.post(
        url,
        {
            "storage": "portal",
            "password": "Correct-Horse-Battery-1",
            "password_again": "Correct-Horse-Battery-2",
        },
    )
    body = response.content.decode()
    assert "The two passwords differ." in body
    assert "Correct-Horse-Battery" not in body
    assert not RootCredential.objects.exists()
