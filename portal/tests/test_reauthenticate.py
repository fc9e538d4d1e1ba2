"""A failed re-authentication is answered with a redirect (Post/Redirect/Get): the browser's Back
after the right password never shows the old "Incorrect password." page again (issue 11, item 7)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from portal.testing import totp_code

pytestmark = pytest.mark.django_db


def test_a_wrong_password_comes_back_by_get_with_the_error(client: Client, outsider: Any) -> None:
    client.force_login(outsider)
    page = reverse("account_reauthenticate") + "?next=/accounts/2fa/"

    response = client.post(page, {"password": "not it"})

    assert response.status_code == 302
    assert response["Location"] == page
    shown = client.get(page).content.decode()
    assert "Incorrect password." in shown
    # Shown once: the page after it (what Back returns to) is a fresh form.
    assert "Incorrect password." not in client.get(page).content.decode()

    right = client.post(page, {"password": PASSWORD})
    assert right.status_code == 302
    assert right["Location"] == "/accounts/2fa/"


def test_a_wrong_code_comes_back_by_get_with_the_error(client: Client, approver: Any) -> None:
    client.force_login(approver)
    page = reverse("mfa_reauthenticate") + "?next=/accounts/2fa/"
    wrong = "000000" if totp_code(approver.totp_secret) != "000000" else "111111"

    response = client.post(page, {"code": wrong})

    assert response.status_code == 302
    assert response["Location"] == page
    assert "Incorrect code." in client.get(page).content.decode()
