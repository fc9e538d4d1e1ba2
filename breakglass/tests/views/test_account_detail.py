"""``account_detail``: what an account's page shows, and what it never shows."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_root_email_is_never_shown_in_full(client: Client, administrator: Any, account: Any) -> None:
    client.force_login(administrator)
    detail = client.get(reverse("breakglass:account_detail", kwargs={"uuid": account.uuid})).content.decode()
    assert account.root_email not in detail
    assert account.root_email_masked in detail
