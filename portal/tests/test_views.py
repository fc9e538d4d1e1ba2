"""``portal/views.py``: the home page sends a person with a role to the accounts and one without a role
to an explanation; the health check needs no login."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_home_page_sends_a_person_with_a_role_to_the_accounts(client: Client, requester: Any) -> None:
    client.force_login(requester)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("breakglass:account_list")


def test_the_home_page_tells_a_person_without_a_role_what_to_do(client: Client, outsider: Any) -> None:
    client.force_login(outsider)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert b"nobody has given you a role" in response.content


def test_the_health_check_needs_no_login_and_reveals_nothing(client: Client) -> None:
    response = client.get(reverse("healthz"))
    assert response.json() == {"status": "ok"}
