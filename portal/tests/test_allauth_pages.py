"""allauth's sign-in, MFA, re-authentication and security pages in the portal's style (issue 11,
item 7): cards and the portal's buttons from templates/allauth/elements, not bare lists of links."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_security_page_is_cards_with_the_portal_s_buttons(client: Client, approver: Any) -> None:
    client.force_login(approver)
    html = client.get(reverse("mfa_index")).content.decode()
    assert html.count('class="card allauth-panel"') == 3  # authenticator app, security keys, recovery codes
    assert 'class="button danger"' in html  # deactivating the authenticator app
    assert "<ul>\\n" not in html


def test_the_sign_in_page_is_the_narrow_entrance_card(client: Client) -> None:
    html = client.get(reverse("account_login")).content.decode()
    assert '<body class="entrance">' in html
    assert 'class="allauth-form"' in html


def test_the_re_authentication_page_is_styled_and_titled(client: Client, approver: Any) -> None:
    client.force_login(approver)
    html = client.get(reverse("mfa_reauthenticate")).content.decode()
    assert '<body class="entrance">' in html
    assert "<h1>Confirm it is you</h1>" in html
    assert 'class="allauth-form"' in html
