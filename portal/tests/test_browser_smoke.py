"""The login page in a real browser: headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

pytestmark = pytest.mark.browser


def test_the_login_page_offers_a_username_and_password_form(live_server: LiveServer, page: Page) -> None:
    response = page.goto(f"{live_server.url}/accounts/login/")

    assert response is not None
    assert response.status == 200
    form = page.locator("form").filter(has=page.locator("input[type=password]"))
    expect(form).to_have_count(1)
    expect(form.locator("input[name=login]")).to_be_visible()
    expect(form.locator("input[name=password][type=password]")).to_be_visible()
    expect(form.locator("input[name=csrfmiddlewaretoken]")).to_have_count(1)
    expect(form.locator("button[type=submit], input[type=submit]").first).to_be_visible()


def test_wrong_credentials_keep_the_visitor_on_the_login_page(live_server: LiveServer, page: Page) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    form = page.locator("form").filter(has=page.locator("input[type=password]"))

    form.locator("input[name=login]").fill("nobody")
    form.locator("input[name=password]").fill("not the password")
    form.locator("button[type=submit], input[type=submit]").first.click()

    # The form came back (CSRF passed, the POST was handled) and nobody was signed in.
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.locator("input[name=password]")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
