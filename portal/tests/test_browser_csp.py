"""The Content-Security-Policy in a real browser: the MFA pages still work and nothing is refused.

A policy that breaks the security-key or authenticator pages would disable MFA; Chromium's virtual
authenticator (DevTools protocol) stands in for a security key.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import CDPSession, Page, expect
from pytest_django.live_server_helper import LiveServer

from conftest import PASSWORD
from portal.policy import Role
from portal.testing import settled_totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def refusals(page: Page) -> list[str]:
    """What the browser refused because of the policy, and script errors, while the test ran."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on("pageerror", lambda error: seen.append(f"script error: {error}"))
    return seen


@pytest.fixture
def security_key(page: Page) -> CDPSession:
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return session


def sign_in_with_password(page: Page, base_url: str, user: Any) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()


def fresh_code(user: Any) -> str:
    """A code the server has not seen yet: a used code is refused for the rest of its window."""
    code = settled_totp_code(user.totp_secret)
    while code in user.used_codes:
        time.sleep(1)
        code = settled_totp_code(user.totp_secret)
    user.used_codes.add(code)
    return code


def confirm_access(page: Page, user: Any) -> None:
    """Answer allauth's re-authentication prompt, which guards MFA changes."""
    page.wait_for_load_state()
    if "/reauthenticate/" not in page.url:
        return
    if page.locator("input[name=code]").count():
        page.fill("input[name=code]", fresh_code(user))
    else:
        page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/reauthenticate/" not in url)


def test_a_security_key_is_added_and_used_to_sign_in_under_the_policy(
    live_server: LiveServer, page: Page, approver: Any, refusals: list[str], security_key: CDPSession
) -> None:
    approver.used_codes = set()
    sign_in_with_password(page, live_server.url, approver)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.fill("input[name=code]", fresh_code(approver))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/**")

    page.goto(f"{live_server.url}/accounts/2fa/webauthn/add/")
    confirm_access(page, approver)
    page.fill("input[name=name]", "Desk key")
    page.click("#mfa_webauthn_add")
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    assert Authenticator.objects.filter(user=approver, type=Authenticator.Type.WEBAUTHN).count() == 1

    page.context.clear_cookies()
    sign_in_with_password(page, live_server.url, approver)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_role("button", name="Use a security key").click()
    page.wait_for_url(lambda url: "/accounts/2fa/authenticate/" not in url)
    expect(
        page.locator("a[href='/accounts/logout/'], form[action='/accounts/logout/']").first
    ).to_be_attached()

    assert refusals == []


def test_the_authenticator_app_set_up_page_shows_its_qr_code_under_the_policy(
    live_server: LiveServer, page: Page, make_persona: Any, refusals: list[str]
) -> None:
    # A requester before her first request: every role must set up MFA first.
    requester = make_persona("rita.enrolling", Role.REQUESTER, mfa=False)
    sign_in_with_password(page, live_server.url, requester)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    page.goto(f"{live_server.url}/accounts/2fa/totp/activate/")
    confirm_access(page, requester)
    qr_code = page.locator("img").first
    expect(qr_code).to_be_visible()
    assert qr_code.evaluate("image => image.naturalWidth") > 0

    assert refusals == []
