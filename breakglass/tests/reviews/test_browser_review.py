"""A reviewer completes an access review in headless Chromium: two approvers keep every grant and
assignment, the custodian types the serial of the device in the safe; the campaign then closes at its
deadline with no finding."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audits.models import Finding
from breakglass import reviews, services
from breakglass.models import Grant, ReviewItem
from breakglass.tests.factories import AwsAccountFactory, GrantFactory, MfaDeviceFactory

# The Persona helper and its fixture (sign-in with TOTP, step-up answered when asked).
from breakglass.tests.test_browser_lifecycle import Persona, personas  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _decide_all(persona: Persona, button: str, decision: str, serial: str = "") -> int:
    """Click ``button`` on each waiting item, oldest first, until none waits; return how many."""
    page = persona.page
    page.goto(f"{persona.base_url}/inventory/reviews/")
    decided = 0
    while page.get_by_role("button", name=button).count():
        if serial:
            page.locator("input[name=serial_seen]").first.fill(serial)
        page.get_by_role("button", name=button).first.click()
        persona.confirm_identity_if_asked()
        expect(page.locator("ul.messages")).to_contain_text(f": {decision}.")
        page.goto(f"{persona.base_url}/inventory/reviews/")
        decided += 1
    expect(page.get_by_text("Nothing waits for you.")).to_be_visible()
    return decided


def test_reviewers_complete_a_campaign(
    personas: Callable[[Any], Persona],  # noqa: F811
    administrator: Any,
    approver: Any,
    second_approver: Any,
    custodian: Any,
    requester: Any,
) -> None:
    account = AwsAccountFactory(name="payments-prod", account_id="123456789012")
    account.approvers.set([approver, second_approver])
    account.custodians.set([custodian])
    grant = GrantFactory(user=requester, account=account, granted_by=administrator)
    key = MfaDeviceFactory(label="YubiKey Payments", serial_number="YK-0042")
    services.mfa_device_assign(actor=administrator, device=key, account=account)
    campaign = reviews.review_campaign_start(actor=administrator, deadline=timezone.now() + timedelta(days=7))

    assert _decide_all(personas(approver), "Keep", "keep") == 3  # the grant, anna, carl
    assert _decide_all(personas(second_approver), "Keep", "keep") == 1  # alan
    assert _decide_all(personas(custodian), "Seen in the safe", "seen", serial="YK-0042") == 1

    assert not ReviewItem.objects.filter(campaign=campaign, decision="").exists()
    reviews.review_campaigns_close_due(now=campaign.deadline + timedelta(minutes=1))
    assert Grant.objects.live().filter(pk=grant.pk).exists()
    assert not Finding.objects.exists()
