"""Every signed-in page on a phone (390 px wide, headless Chromium): no sideways scrolling, the
menu folds under a button, and an approver decides from a notification's link with a TOTP step-up
that names what it confirms.

Each persona of the demo (``seed_demo``, with its sample CloudTrail) signs in, walks every page its
navigation reaches and the first page each list links to, and the request, step-up, check-out and
reveal pages are visited on the way. A page is refused when
``document.documentElement.scrollWidth > innerWidth``; the offending elements are named.
Screenshots of each page go to ``$PHONE_SCREENSHOT_DIR`` (default: pytest's temporary folder),
never into the repository.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from audits.demo_trail import seed_demo_trail
from breakglass import lifecycle
from breakglass.demo import seed_demo
from breakglass.models import AccessRequest, AwsAccount
from breakglass.notifications import messages as notification_messages
from portal.policy import Role
from portal.testing import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
STEP_UP_SECONDS = 20
REVEAL_SECONDS = 3
TOTP_PERIOD = 30

# The elements wider than the viewport, for the failure message.
_OVERFLOW = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && box.width > 0) {
      const classes = typeof el.className === 'string' ? el.className.trim().split(/\\s+/) : [];
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
      wide.push(name + classes.map(c => c ? '.' + c : '').join('') + ' right=' + Math.round(box.right));
    }
    if (wide.length >= 8) break;
  }
  return wide.length ? wide : ['scrollWidth ' + document.documentElement.scrollWidth];
}"""


@dataclass
class PhoneUser:
    """A demo persona in their own 390 px browser context."""

    username: str
    password: str
    secret: str
    page: Page
    base_url: str
    shots: Path
    last_counter: int = -1
    stepped_up_at: float = 0.0
    visited: list[str] = field(default_factory=list)

    def fresh_code(self) -> str:
        """A code from a TOTP window this person has not used (allauth refuses a code twice), not
        from the last seconds of its window."""
        while True:
            now = time.time()
            counter = int(now // TOTP_PERIOD)
            if counter > self.last_counter and (counter + 1) * TOTP_PERIOD - now > 4:
                break
            time.sleep((counter + 1) * TOTP_PERIOD - now + 0.2)
        self.last_counter = counter
        return totp_code(self.secret, at=now)

    def sign_in(self) -> None:
        page = self.page
        page.goto(f"{self.base_url}/accounts/login/")
        self.check(page, "sign-in")
        page.fill("input[name=login]", self.username)
        page.fill("input[name=password]", self.password)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url("**/accounts/2fa/authenticate/")
        self.check(page, "sign-in-code")
        page.fill("input[name=code]", self.fresh_code())
        page.locator("form button[type=submit]").first.click()
        expect(page.get_by_role("button", name="Menu")).to_be_visible()
        self.stepped_up_at = time.time()

    def wait_out_step_up(self) -> None:
        """Let the sign-in's proof lapse, so the next protected action asks for a step-up."""
        left = self.stepped_up_at + STEP_UP_SECONDS + 1 - time.time()
        if left > 0:
            time.sleep(left)

    def step_up(self, *, confirms: str) -> None:
        page = self.page
        expect(page).to_have_url(re.compile(r"/accounts/2fa/reauthenticate/"))
        expect(page.locator(".step-up-purpose")).to_contain_text(confirms)
        self.check(page, "step-up")
        page.fill("input[name=code]", self.fresh_code())
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()
        self.stepped_up_at = time.time()

    def check(self, page: Page, name: str) -> None:
        """No horizontal overflow; a screenshot for people to look at."""
        page.wait_for_load_state()
        wide = page.evaluate(_OVERFLOW)
        page.screenshot(
            path=str(self.shots / f"{self.username}-{len(self.visited):02d}-{name}.png"), full_page=True
        )
        self.visited.append(page.url)
        assert not wide, f"{page.url} scrolls sideways at 390 px: {wide}"


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("PHONE_SCREENSHOT_DIR")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("phone-screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def demo(settings: Any, live_server: LiveServer) -> dict[str, Any]:
    """The demo organization with its sample CloudTrail, a pending request on web-staging and an
    approved one on payments-prod, both Rita's."""
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = STEP_UP_SECONDS
    settings.PORTAL_REVEAL_SECONDS = REVEAL_SECONDS
    # Notification links point at this server, as PORTAL_BASE_URL does in production.
    settings.PORTAL_BASE_URL = live_server.url
    # Transactional tests flush the groups the migration created; the demo needs them.
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    logins = {login.username: login for login in seed_demo()}
    seed_demo_trail()
    users = {user.username: user for user in get_user_model().objects.all()}
    rita = users["rita.requester"]
    now = timezone.now()
    pending = lifecycle.access_request_create(
        requester=rita,
        account=AwsAccount.objects.get(name="web-staging"),
        root_task="close_account",
        justification="Close the staging account after the migration to the new organization.",
        starts_at=now,
        duration_minutes=60,
    )
    approved = lifecycle.access_request_create(
        requester=rita,
        account=AwsAccount.objects.get(name="payments-prod"),
        root_task="close_account",
        justification="Close the legacy payments account as agreed in the decommissioning plan.",
        ticket_reference="CHG-4711",
        starts_at=now,
        duration_minutes=30,
    )
    for name in ("alan.approver", "anna.approver"):
        lifecycle.access_request_decide(
            request=approved, approver=users[name], decision="approve", comment="Agreed in the CAB."
        )
    return {"logins": logins, "pending": pending, "approved": approved}


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer, demo: dict[str, Any], shots: Path) -> Iterator[Any]:
    contexts = []

    def open_as(username: str) -> PhoneUser:
        context = browser.new_context(viewport=PHONE)
        contexts.append(context)
        login = demo["logins"][username]
        person = PhoneUser(
            username=username,
            password=login.password,
            secret=login.totp_secret,
            page=context.new_page(),
            base_url=live_server.url,
            shots=shots,
        )
        person.sign_in()
        return person

    yield open_as
    for context in contexts:
        context.close()


def walk_navigation(person: PhoneUser) -> list[str]:
    """Open the menu, visit each page it links to, and from each the first page its list links to
    and the pages its buttons open (new request, add an account, upload, ...)."""
    page = person.page
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("#main-menu")).to_be_visible()
    links = page.locator("#main-menu a").evaluate_all("links => links.map(a => a.href)")
    assert links, "the menu has no links"
    seen: set[str] = set()

    def visit(href: str, name: str) -> None:
        if href in seen or "/export" in href or "format=" in href or "logout" in href:
            return
        seen.add(href)
        page.goto(href)
        person.check(page, name)

    for href in links:
        visit(href, "nav")
        follow = page.locator("main table a[href]").evaluate_all(
            "links => links.slice(0, 1).map(a => a.href)"
        )
        buttons = page.locator("main a.button[href]").evaluate_all("links => links.map(a => a.href)")
        for target in follow:
            visit(target, "detail")
        for target in buttons:
            visit(target, "button")
    return sorted(seen)


def test_the_menu_folds_on_a_phone_and_opens_with_the_keyboard(phone: Any) -> None:
    rita = phone("rita.requester")
    page = rita.page
    menu = page.locator("#main-menu")
    toggle = page.get_by_role("button", name="Menu")
    expect(menu).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="My requests")).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    # At desktop width there is no button: the navigation is a row of links.
    page.set_viewport_size({"width": 1366, "height": 900})
    expect(toggle).to_be_hidden()
    expect(page.get_by_role("link", name="My requests")).to_be_visible()


@pytest.mark.parametrize(
    "username", ["rita.requester", "alan.approver", "carl.custodian", "audrey.auditor", "ada.admin"]
)
def test_every_page_in_the_navigation_fits_a_phone(phone: Any, username: str) -> None:
    person = phone(username)
    visited = walk_navigation(person)
    page = person.page
    page.goto(f"{person.base_url}/accounts/2fa/")
    person.check(page, "security")
    assert len(visited) >= 3


def test_an_approver_decides_from_a_notification_link_on_a_phone(phone: Any, demo: dict[str, Any]) -> None:
    pending: AccessRequest = demo["pending"]
    alan = phone("alan.approver")
    link = notification_messages.request_link(pending)
    assert link.startswith(alan.base_url)

    page = alan.page
    alan.wait_out_step_up()
    page.goto(link)
    alan.check(page, "request")
    expect(page.get_by_text("Close the staging account")).to_be_visible()
    page.fill("#id_comment", "Migration is done; fine to close.")
    page.locator("button[value=approve]").click()
    alan.step_up(confirms=f"Approve {pending.code} on web-staging")
    expect(page.get_by_text(f"You approved {pending.code}.")).to_be_visible()
    alan.check(page, "approved")


def test_a_requester_checks_out_and_reveals_on_a_phone(phone: Any, demo: dict[str, Any]) -> None:
    approved: AccessRequest = demo["approved"]
    rita = phone("rita.requester")
    page = rita.page
    rita.wait_out_step_up()
    page.goto(f"{rita.base_url}/inventory/requests/{approved.uuid}/")
    rita.check(page, "approved-request")
    check_out = page.locator("form.action").filter(has=page.get_by_role("button", name="Check out"))
    expect(check_out).to_contain_text("A custodian must then hand you the MFA device")
    expect(check_out).to_contain_text("Carl Custodian (carl.custodian)")
    page.get_by_role("button", name="Check out").click()
    rita.step_up(confirms=f"Check out {approved.code} on payments-prod")
    expect(page.locator(".next-step")).to_contain_text("Carl Custodian (carl.custodian)")
    rita.check(page, "checked-out")

    # Within the step-up just made: no second prompt.
    page.get_by_role("button", name="Reveal the root password").click()
    expect(page.locator("#root-password")).not_to_have_text("")
    expect(page.locator(".root-email")).to_have_text("aws-root+payments-prod@demo.invalid")
    rita.check(page, "reveal")
    expect(page.locator("#root-password")).to_have_text("", timeout=(REVEAL_SECONDS + 5) * 1000)
    expect(page.get_by_text("The password is hidden.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Hidden again in"))).to_have_count(0)
    custody_request = AccessRequest.objects.get(pk=approved.pk)
    assert custody_request.checked_out_at is not None
    assert custody_request.due_at is not None
    assert custody_request.due_at > timezone.now() - timedelta(minutes=1)


def test_an_approver_decides_with_a_security_key_on_a_phone(phone: Any, demo: dict[str, Any]) -> None:
    """The same decision, confirmed with a security key (Chromium's virtual authenticator)."""
    pending: AccessRequest = demo["pending"]
    alan = phone("alan.approver")
    page = alan.page
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
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
    page.goto(f"{alan.base_url}/accounts/2fa/webauthn/add/")
    if "/reauthenticate/" in page.url:
        page.fill("input[name=code]", alan.fresh_code())
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_url("**/webauthn/add/**")
    alan.check(page, "add-key")
    page.fill("input[name=name]", "Phone key")
    page.click("#mfa_webauthn_add")
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    alan.stepped_up_at = time.time()

    alan.wait_out_step_up()
    page.goto(notification_messages.request_link(pending))
    page.fill("#id_comment", "Fine with a key.")
    page.locator("button[value=approve]").click()
    expect(page).to_have_url(re.compile(r"/reauthenticate/"))
    page.get_by_text("Other ways to confirm").click()
    page.get_by_role("link", name="Use a security key").click()
    page.wait_for_url(re.compile(r"/webauthn/reauthenticate/"))
    expect(page.locator(".step-up-purpose")).to_contain_text(f"Approve {pending.code} on web-staging")
    alan.check(page, "step-up-key")
    page.get_by_role("button", name="Use a security key").click()
    expect(page.get_by_text(f"You approved {pending.code}.")).to_be_visible()
    alan.check(page, "approved-with-key")


# The lists with their searches and filters applied, which the navigation alone does not reach.
FILTERED_LISTS = {
    "alan.approver": [
        "/inventory/requests/approvals/?show=decided",
        "/inventory/requests/approvals/?q=payments",
        "/inventory/reviews/",
    ],
    "carl.custodian": [
        "/inventory/custody/?q=payments",
        "/inventory/requests/active/?q=payments",
        "/inventory/drills/?state=overdue",
    ],
    "audrey.auditor": [
        "/audit/findings/?account=payments",
        "/audit/findings/?account=1234",
        "/audit/ledger/?person=alan.approver&category=decisions",
        "/inventory/reviews/campaigns/",
        "/inventory/drills/?q=web&state=due_soon",
    ],
    "ada.admin": ["/api/tokens/", "/audit/organization/", "/audit/posture/"],
}


@pytest.mark.parametrize("username", list(FILTERED_LISTS))
def test_filtered_lists_and_their_later_pages_fit_a_phone(phone: Any, username: str) -> None:
    from audits.choices import SourceKind
    from audits.models import IngestionRun

    # More runs than a page holds, so the runs list shows its pager and a later page.
    IngestionRun.objects.bulk_create(
        IngestionRun(kind=SourceKind.FILES, unit=f"AWSLogs/o-demo/{n:03d}/") for n in range(60)
    )
    person = phone(username)
    page = person.page
    paths = [*FILTERED_LISTS[username], *(["/audit/runs/"] if username == "audrey.auditor" else [])]
    for path in paths:
        page.goto(f"{person.base_url}{path}")
        person.check(page, "list")
        assert page.locator("main").count() == 1
        older = page.locator("nav.pager a[rel=next]")
        if older.count():
            older.first.click()
            person.check(page, "later-page")
            expect(page).to_have_url(re.compile(r"cursor="))
    if username == "audrey.auditor":
        assert any("cursor=" in url for url in person.visited), "no list had a later page"
