"""Personas sign in through the real pages (password, then TOTP) in headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from breakglass.tests.factories import GrantFactory
from conftest import PASSWORD
from portal.testing import settled_totp_code, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base_url: str, user: Any) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    if user.totp_secret:
        page.wait_for_url("**/accounts/2fa/authenticate/")
        page.fill("input[name=code]", settled_totp_code(user.totp_secret))
        page.locator("form button[type=submit]").first.click()


def test_an_administrator_signs_in_with_totp_and_sees_every_account(
    live_server: LiveServer, page: Page, administrator: Any, account: Any, other_account: Any
) -> None:
    sign_in(page, live_server.url, administrator)

    # Sign-in lands on the home page; the account list keeps its own address.
    expect(page).to_have_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/inventory/")
    expect(page).to_have_url(f"{live_server.url}/inventory/")
    expect(page.get_by_role("heading", name="AWS accounts")).to_be_visible()
    expect(page.get_by_role("link", name="payments-prod")).to_be_visible()
    expect(page.get_by_role("link", name="web-staging")).to_be_visible()
    expect(page.get_by_role("link", name="Add an account")).to_be_visible()


def test_a_requester_signs_in_with_a_password_and_sees_only_granted_accounts(
    live_server: LiveServer, page: Page, requester: Any, account: Any, other_account: Any
) -> None:
    GrantFactory(user=requester, account=account)
    sign_in(page, live_server.url, requester)

    # Sign-in lands on the home page; the account list keeps its own address.
    expect(page).to_have_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/inventory/")
    expect(page).to_have_url(f"{live_server.url}/inventory/")
    expect(page.get_by_role("link", name="payments-prod")).to_be_visible()
    expect(page.get_by_role("link", name="web-staging")).to_have_count(0)
    expect(page.get_by_role("link", name="Add an account")).to_have_count(0)


def test_a_wrong_totp_code_does_not_let_an_approver_in(
    live_server: LiveServer, page: Page, approver: Any
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", approver.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.fill("input[name=code]", "000000" if totp_code(approver.totp_secret) != "000000" else "111111")
    page.locator("form button[type=submit]").first.click()

    expect(page.get_by_text("Incorrect code")).to_be_visible()
    # The half-finished sign-in leads back to the code prompt, never to the inventory.
    page.goto(f"{live_server.url}/inventory/")
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/authenticate/")
    expect(page.get_by_role("heading", name="AWS accounts")).to_have_count(0)
