"""The whole break-glass path in headless Chromium, one browser context per persona: request, two
approvals with TOTP re-authentication, check-out, custodian hand-over, reveal, check-in, rotation
and review, closed; and the emergency path."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from breakglass import services
from breakglass.models import AccessRequest
from breakglass.tests.factories import AwsAccountFactory, GrantFactory, MfaDeviceFactory
from conftest import PASSWORD
from ledger import chain
from ledger.models import LedgerEntry
from portal.testing import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT_PASSWORD = "Initial-Root-Password-0001"
NEW_ROOT_PASSWORD = "Rotated-Root-Password-0002"
# Short, so the test sees step-up prompts after signing in without waiting five minutes.
STEP_UP_SECONDS = 30
REVEAL_SECONDS = 3
TOTP_PERIOD = 30


@dataclass
class Persona:
    """A person in their own browser context, remembering what allauth will and will not accept:
    a TOTP code is refused a second time in its 30-second window, and a sign-in or
    re-authentication counts as fresh for ``STEP_UP_SECONDS``."""

    user: Any
    page: Page
    base_url: str
    stepped_up_at: float = 0.0
    last_counter: int = -1
    reauthentications: list[str] = field(default_factory=list)

    def fresh_code(self) -> str:
        """A code from a window this person has not used yet, and not from the last seconds of
        its window (the server, with no tolerance, would already be in the next one)."""
        while True:
            now = time.time()
            counter = int(now // TOTP_PERIOD)
            if counter > self.last_counter and (counter + 1) * TOTP_PERIOD - now > 4:
                break
            time.sleep((counter + 1) * TOTP_PERIOD - now + 0.2)
        self.last_counter = counter
        return totp_code(self.user.totp_secret, at=now)

    def sign_in(self) -> None:
        page = self.page
        page.goto(f"{self.base_url}/accounts/login/")
        page.fill("input[name=login]", self.user.username)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").first.click()
        if self.user.totp_secret:
            page.wait_for_url("**/accounts/2fa/authenticate/")
            page.fill("input[name=code]", self.fresh_code())
            page.locator("form button[type=submit]").first.click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        self.stepped_up_at = time.time()

    def before_step_up(self) -> None:
        """Don't start a protected action in the last seconds of a step-up: the page could be
        shown fresh and its POST arrive stale. Let it lapse instead, so the prompt comes now."""
        left = self.stepped_up_at + STEP_UP_SECONDS - time.time()
        if 0 < left < 10:
            time.sleep(left + 0.5)

    def confirm_identity_if_asked(self) -> None:
        """Answer allauth's re-authentication page, if the last action led there."""
        page = self.page
        page.wait_for_load_state()
        if "/2fa/reauthenticate/" in page.url:
            self.reauthentications.append("totp")
            page.fill("input[name=code]", self.fresh_code())
        elif "/accounts/reauthenticate/" in page.url:
            self.reauthentications.append("password")
            page.fill("input[name=password]", PASSWORD)
        else:
            return
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()
        self.stepped_up_at = time.time()

    def open(self, request: AccessRequest) -> Page:
        self.page.goto(f"{self.base_url}/inventory/requests/{request.uuid}/")
        return self.page


@pytest.fixture
def personas(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[Any], Persona]]:
    contexts = []

    def open_as(user: Any) -> Persona:
        context = browser.new_context()
        contexts.append(context)
        persona = Persona(user=user, page=context.new_page(), base_url=live_server.url)
        persona.sign_in()
        return persona

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def short_step_up(settings: Any) -> None:
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = STEP_UP_SECONDS
    settings.PORTAL_REVEAL_SECONDS = REVEAL_SECONDS


@pytest.fixture
def payments(administrator: Any, approver: Any, second_approver: Any, custodian: Any, requester: Any) -> Any:
    account = AwsAccountFactory(name="payments-prod", account_id="123456789012", approval_quorum=2)
    account.approvers.set([approver, second_approver])
    account.custodians.set([custodian])
    services.root_credential_store_in_portal(actor=administrator, account=account, password=ROOT_PASSWORD)
    services.mfa_device_assign(
        actor=administrator,
        device=MfaDeviceFactory(label="YubiKey Payments", serial_number="YK-0001"),
        account=account,
    )
    return account


def status_of(page: Page) -> Any:
    return page.locator(".request-state .status")


def test_a_request_goes_from_filing_to_closed_through_every_persona(
    personas: Callable[[Any], Persona],
    short_step_up: None,
    payments: Any,
    requester: Any,
    approver: Any,
    second_approver: Any,
    custodian: Any,
    auditor: Any,
) -> None:
    GrantFactory(user=requester, account=payments)
    rita, alan, anna, carl = (personas(user) for user in (requester, approver, second_approver, custodian))

    # The requester files the request.
    page = rita.page
    page.goto(f"{rita.base_url}/inventory/requests/")
    page.get_by_role("link", name="New request").click()
    page.select_option("#id_account", label="payments-prod (123456789012)")
    page.select_option("#id_root_task", value="unlock_bucket_policy")
    expect(page.locator('[data-hint-for="unlock_bucket_policy"]')).to_be_visible()
    page.select_option("#id_root_task", value="close_account")
    expect(page.locator('[data-hint-for="unlock_bucket_policy"]')).to_be_hidden()
    expect(page.locator("#id_duration_minutes")).to_have_attribute("max", "120")
    page.fill("#id_justification", "Close the legacy payments account as agreed in the decommissioning plan.")
    page.fill("#id_ticket_reference", "CHG-4711")
    page.fill("#id_duration_minutes", "30")
    page.get_by_role("button", name="Submit request").click()
    expect(status_of(page)).to_have_text("Pending approval")
    request = AccessRequest.objects.get(requester=requester)

    # Step-ups from signing in lapse, and every approver's sign-in code window passes.
    time.sleep(
        max(0.0, max(p.stepped_up_at for p in (rita, alan, anna, carl)) + STEP_UP_SECONDS + 1 - time.time())
    )

    # Two approvers, each through the TOTP re-authentication page.
    for person, comment in (
        (alan, "Matches CHG-4711; agreed in the CAB."),
        (anna, "Second pair of eyes: fine."),
    ):
        page = person.open(request)
        page.fill("#id_comment", comment)
        person.before_step_up()
        page.locator("button[value=approve]").click()
        expect(page).to_have_url(re.compile(r"/accounts/2fa/reauthenticate/"))
        person.confirm_identity_if_asked()
        expect(page.get_by_text(f"You approved {request.code}.")).to_be_visible()
        expect(page.get_by_text(comment)).to_be_visible()
    expect(status_of(page)).to_have_text("Approved")

    # The requester checks out: a fresh TOTP code, never just the password (issue 8, item 1).
    page = rita.open(request)
    rita.before_step_up()
    page.get_by_role("button", name="Check out").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/reauthenticate/"))
    rita.confirm_identity_if_asked()
    expect(status_of(page)).to_have_text("Checked out")
    expect(page.locator("[data-countdown]")).to_contain_text("left")

    # The custodian hands over the MFA device.
    page = carl.open(request)
    page.get_by_label(re.compile("YubiKey Payments")).check()
    carl.before_step_up()
    page.get_by_role("button", name="Hand over").click()
    carl.confirm_identity_if_asked()
    expect(page.get_by_text("Handed YubiKey Payments to rita.requester.")).to_be_visible()

    # The requester reveals the password: shown, then gone after PORTAL_REVEAL_SECONDS.
    page = rita.open(request)
    assert ROOT_PASSWORD not in page.content()
    rita.before_step_up()
    page.get_by_role("button", name="Reveal the root password").click()
    rita.confirm_identity_if_asked()
    secret = page.locator("#root-password")
    expect(secret).to_have_text(ROOT_PASSWORD)
    expect(secret).to_be_visible()
    expect(secret).to_have_text("", timeout=(REVEAL_SECONDS + 5) * 1000)
    expect(page.get_by_text("The password is hidden.")).to_be_visible()
    assert ROOT_PASSWORD not in page.content()
    # Once hidden, the history entry points at the request page: going back later neither
    # re-posts the reveal nor brings the password back from a cache (the response was no-store).
    expect(page).to_have_url(re.compile(rf"/inventory/requests/{request.uuid}/$"))
    page.goto(f"{rita.base_url}/inventory/requests/active/")
    page.go_back(wait_until="load")
    expect(page).to_have_url(re.compile(rf"/inventory/requests/{request.uuid}/$"))
    expect(page.locator(".request-head")).to_be_visible()
    assert ROOT_PASSWORD not in page.content()

    # ... and checks in.
    page = rita.open(request)
    assert ROOT_PASSWORD not in page.content()
    page.fill("#id_work_done", "Closed the account; nothing else was touched.")
    page.get_by_role("button", name="Check in").click()
    expect(status_of(page)).to_have_text("Returned, rotation pending")

    # The custodian confirms the rotation and reviews the session.
    page = carl.open(request)
    carl.before_step_up()
    page.get_by_role("link", name="Confirm rotation and review").click()
    carl.confirm_identity_if_asked()
    page.fill("#id_new_password", NEW_ROOT_PASSWORD)
    page.fill("#id_new_password_again", NEW_ROOT_PASSWORD)
    page.fill("#id_review_note", "Only CloseAccount in CloudTrail; in scope.")
    page.get_by_role("button", name="Confirm rotation and close").click()
    expect(status_of(page)).to_have_text("Closed")
    assert NEW_ROOT_PASSWORD not in page.content()

    # Approvers and the requester were really asked for a TOTP code.
    assert alan.reauthentications[0] == "totp"
    assert anna.reauthentications[0] == "totp"
    assert rita.reauthentications[0] == "totp"

    # The auditor reads the whole story.
    audrey = personas(auditor)
    page = audrey.open(request)
    expect(status_of(page)).to_have_text("Closed")
    expect(page.locator(".timeline")).to_contain_text("Revealed the root password")
    expect(page.locator(".timeline")).to_contain_text("Returned, rotation pending → Closed")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path="/tmp/lifecycle.png", full_page=True)

    actions = list(
        LedgerEntry.objects.filter(target_id=str(request.uuid))
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "access_request.created",
        "access_request.decision",
        "access_request.decision",
        "access_request.approved",
        "access_request.active",
        "access_request.devices_handed_over",
        "access_request.password_revealed",
        "access_request.returned",
        "root_credential.rotated",
        "access_request.closed",
    ]
    assert chain.verify().intact


def test_a_requester_with_an_emergency_grant_breaks_glass_at_once(
    personas: Callable[[Any], Persona], payments: Any, requester: Any, custodian: Any
) -> None:
    GrantFactory(user=requester, account=payments, emergency=True)
    rita = personas(requester)
    page = rita.page
    page.goto(f"{rita.base_url}/inventory/requests/new/")
    page.select_option("#id_account", label="payments-prod (123456789012)")
    page.select_option("#id_root_task", value="restore_iam_permissions")
    page.fill("#id_justification", "The only IAM administrator role was deleted during the incident.")
    page.fill("#id_ticket_reference", "INC-0099")
    page.fill("#id_duration_minutes", "45")
    page.get_by_label("Emergency: self-authorise now").check()
    page.fill("#id_emergency_reason", "Incident at night; neither approver answers the phone.")
    page.get_by_role("button", name="Submit request").click()
    rita.confirm_identity_if_asked()

    expect(status_of(page)).to_have_text("Checked out")
    expect(page.locator(".request-state")).to_contain_text("Emergency")
    expect(page.locator(".request-state")).to_contain_text("approvals outstanding")
    expect(page.get_by_role("button", name="Reveal the root password")).to_be_visible()
    request = AccessRequest.objects.get(requester=requester)
    assert request.status == "active"
    assert request.emergency
    expect(page.locator(".request-state")).to_contain_text("not acknowledged by a second person")

    # A second person acknowledges within PORTAL_EMERGENCY_ACK_MINUTES, with a fresh TOTP code.
    carl = personas(custodian)
    page = carl.open(request)
    page.fill("#id_note", "Called Rita; the incident is real.")
    carl.before_step_up()
    page.get_by_role("button", name="Acknowledge this emergency").click()
    carl.confirm_identity_if_asked()
    expect(page.get_by_text(f"You acknowledged the emergency {request.code}.")).to_be_visible()
    expect(page.locator(".request-state")).to_contain_text("acknowledged by")

    actions = set(LedgerEntry.objects.filter(target_id=str(request.uuid)).values_list("action", flat=True))
    assert {
        "access_request.created",
        "access_request.active",
        "access_request.emergency_acknowledged",
    } <= actions
    assert chain.verify().intact
