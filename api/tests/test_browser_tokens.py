"""In headless Chromium: a requester makes a token on the page (step-up answered), copies it from the
one page that shows it, calls the API over real HTTP with it, revokes it; the token and documentation
pages fit a 390 px phone."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

# The Persona helper and its fixture (sign-in with TOTP, step-up answered when asked).
from breakglass.tests.test_browser_lifecycle import Persona, personas  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _call(base_url: str, token: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{base_url}/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_requester_makes_uses_and_revokes_a_token_on_a_phone(
    personas: Callable[[Any], Persona],  # noqa: F811
    requester: Any,
) -> None:
    persona = personas(requester)
    page = persona.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{persona.base_url}/api/tokens/")
    page.get_by_role("link", name="Make a token…").click()
    persona.confirm_identity_if_asked()
    page.fill("input[name=name]", "ticketing system")
    page.get_by_label("read:inventory: Read the accounts and requests you may see").check()
    page.get_by_role("button", name="Make the token").click()
    persona.confirm_identity_if_asked()

    expect(page.get_by_role("heading", name="Your new API token: ticketing system")).to_be_visible()
    token = page.input_value("#api-token")
    assert token.startswith("bgp_")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    assert _call(persona.base_url, token) == (200, {"items": [], "next": None})

    page.get_by_role("link", name="I have stored the token").click()
    assert token not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("no longer works")).to_be_visible()
    status, problem = _call(persona.base_url, token)
    assert (status, problem["detail"]) == (401, "The token was revoked.")

    page.goto(f"{persona.base_url}/api/docs/")
    expect(page.get_by_role("heading", name="Operations")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
