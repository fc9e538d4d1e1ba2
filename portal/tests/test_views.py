"""The home page sends a person without a role to an explanation (what a person with a role sees is
in ``test_home.py``); the health check needs no login."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_home_page_tells_a_person_without_a_role_what_to_do(client: Client, outsider: Any) -> None:
    client.force_login(outsider)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert b"nobody has given you a role" in response.content


def test_the_health_check_needs_no_login_and_reveals_nothing(client: Client) -> None:
    response = client.get(reverse("healthz"))
    assert response.json() == {"status": "ok"}
