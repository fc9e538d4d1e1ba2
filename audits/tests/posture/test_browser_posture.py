"""In headless Chromium: an administrator reads the organization's posture at phone and desk width,
opens the account failing Account.1, sets its missing contacts (with step-up), and sees the
finding resolve on the check that follows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from audits.choices import FindingStatus
from audits.models import Finding
from audits.posture.service import posture_check_all
from audits.tests.posture_support import RootPostureStore, set_contacts

# The Persona helper and its fixture (sign-in with TOTP, step-up answered when asked).
from breakglass.tests.test_browser_lifecycle import Persona, personas  # noqa: F401
from ledger.models import LedgerEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MISSING, FINE = "222222222222", "333333333333"


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} is {width}px wide at {viewport}px"


def test_an_administrator_fixes_a_missing_contact_and_the_finding_resolves(
    personas: Callable[[Any], Persona],  # noqa: F811
    administrator: Any,
    posture_aws: RootPostureStore,
    make_account: Callable[..., Any],
    eager_celery: None,
) -> None:
    make_account(MISSING, name="payments-prod-with-a-long-name")
    make_account(FINE, name="sandbox", environment="sandbox")
    set_contacts(MISSING, "BILLING", "OPERATIONS")
    set_contacts(FINE, "BILLING", "OPERATIONS", "SECURITY")
    posture_aws.root(FINE).virtual_mfa = True
    posture_check_all()
    finding = Finding.objects.get(dedupe_key=f"alternate_contact_missing:{MISSING}:SECURITY")

    persona = personas(administrator)
    page = persona.page
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{persona.base_url}/audit/posture/")
        expect(page.locator("#control-account1")).to_contain_text("50%")
        expect(page.locator("#control-iam6")).to_contain_text("sandbox")
        no_sideways_scroll(page)

    page.set_viewport_size({"width": 390, "height": 900})
    page.select_option("select[name=control]", "Account.1")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".control")).to_have_count(1)
    page.locator("#control-account1").get_by_role("link", name="payments-prod-with-a-long-name").click()
    expect(page.locator("#check-alternate_contact_security")).to_contain_text("Fail")
    no_sideways_scroll(page)

    page.get_by_role("link", name="Set missing contacts…").click()
    persona.confirm_identity_if_asked()
    no_sideways_scroll(page)
    page.uncheck("input[value=BILLING]")
    page.uncheck("input[value=OPERATIONS]")
    page.fill("input[name=name]", "Cloud Security")
    page.fill("input[name=title]", "Security operations")
    page.fill("input[name=email]", "security@example.com")
    page.fill("input[name=phone]", "+44 20 7946 0000")
    page.get_by_role("button", name="Set missing contacts").click()
    persona.confirm_identity_if_asked()

    expect(page.locator(".messages")).to_contain_text("Set 1 contact(s) on 1 account(s)")
    page.reload()
    expect(page.locator("#check-alternate_contact_security")).to_contain_text("Pass")
    no_sideways_scroll(page)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED
    assert LedgerEntry.objects.filter(action="posture.contact_set", actor_id=administrator.pk).count() == 1
    page.set_viewport_size({"width": 390, "height": 900})
    page.screenshot(path="/tmp/posture-account-390.png", full_page=True)
    page.goto(f"{persona.base_url}/audit/posture/")
    page.screenshot(path="/tmp/posture-org-390.png", full_page=True)
