"""The access-review pages: a reviewer's waiting decisions and deciding one (step-up), campaigns and
their progress, and an administrator starting one (step-up and confirmation)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from breakglass.choices import ReviewSubject
from breakglass.models import Grant, ReviewCampaign
from breakglass.tests.reviews.conftest import item_of
from ledger.models import LedgerEntry
from portal.testing import step_up

pytestmark = pytest.mark.django_db

INBOX = reverse("breakglass:review_inbox")
CAMPAIGNS = reverse("breakglass:review_campaign_list")
START = reverse("breakglass:review_campaign_start")


def _decide_url(item: Any) -> str:
    return reverse("breakglass:review_item_decide", kwargs={"uuid": item.uuid})


def _client(user: Any, *, stepped_up: bool = False) -> Client:
    client = Client()
    client.force_login(user)
    if stepped_up:
        step_up(client, user)
    return client


def test_a_reviewer_sees_the_items_waiting_for_them_oldest_first(campaign: Any, approver: Any) -> None:
    html = _client(approver).get(INBOX).content.decode()
    assert html.index("Grant") < html.index("Custodian assignment")
    assert "rita.requester" in html or "Rita" in html
    # alan is never asked about his own approver assignment; the device is the custodian's.
    assert html.count('value="keep"') == 3
    assert "Seen in the safe" not in html


def test_a_custodian_is_asked_for_the_serial_which_the_page_does_not_show(
    campaign: Any, custodian: Any, safe_device: Any
) -> None:
    html = _client(custodian).get(INBOX).content.decode()
    assert 'name="serial_seen"' in html
    assert safe_device.serial_number not in html


def test_an_outsider_is_refused(campaign: Any, outsider: Any) -> None:
    assert _client(outsider).get(INBOX).status_code == 403


def test_a_decision_needs_a_fresh_second_factor(campaign: Any, approver: Any, grant: Any) -> None:
    item = item_of(campaign, ReviewSubject.GRANT)
    response = _client(approver).post(_decide_url(item), {"decision": "revoke"})
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert Grant.objects.live().filter(pk=grant.pk).exists()


def test_a_reviewer_revokes_a_grant(campaign: Any, approver: Any, grant: Any) -> None:
    item = item_of(campaign, ReviewSubject.GRANT)
    response = _client(approver, stepped_up=True).post(
        _decide_url(item), {"decision": "revoke", "note": "left"}
    )
    assert response.status_code == 302
    assert not Grant.objects.live().filter(pk=grant.pk).exists()
    assert LedgerEntry.objects.get(action="review.decided").data["note"] == "left"


def test_a_wrong_serial_is_shown_back_and_nothing_is_decided(campaign: Any, custodian: Any) -> None:
    item = item_of(campaign, ReviewSubject.DEVICE)
    client = _client(custodian, stepped_up=True)
    response = client.post(_decide_url(item), {"decision": "seen", "serial_seen": "nope"}, follow=True)
    assert "serial does not match" in response.content.decode()
    item.refresh_from_db()
    assert item.decision == ""


def test_someone_else_s_item_is_not_found(campaign: Any, custodian: Any) -> None:
    item = item_of(campaign, ReviewSubject.GRANT)
    response = _client(custodian, stepped_up=True).post(_decide_url(item), {"decision": "keep"})
    assert response.status_code == 404


def test_an_administrator_starts_a_campaign_after_step_up_and_confirmation(
    administrator: Any, grant: Any, safe_device: Any
) -> None:
    deadline = (timezone.localtime() + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")
    assert _client(administrator).get(START)["Location"].startswith(reverse("mfa_reauthenticate"))
    client = _client(administrator, stepped_up=True)
    unconfirmed = client.post(START, {"deadline": deadline})
    assert unconfirmed.status_code == 200
    assert not ReviewCampaign.objects.exists()
    response = client.post(START, {"deadline": deadline, "confirm": "on"})
    campaign = ReviewCampaign.objects.get()
    assert response["Location"] == reverse(
        "breakglass:review_campaign_detail", kwargs={"uuid": campaign.uuid}
    )
    assert campaign.items.count() == 5


def test_an_approver_may_not_start_a_campaign(approver: Any) -> None:
    assert _client(approver, stepped_up=True).get(START).status_code == 403


def test_the_campaign_page_shows_progress_to_auditors(campaign: Any, auditor: Any, approver: Any) -> None:
    client = _client(auditor)
    assert "0 of 5" in client.get(CAMPAIGNS).content.decode()
    detail = reverse("breakglass:review_campaign_detail", kwargs={"uuid": campaign.uuid})
    html = client.get(detail).content.decode()
    assert "Expire the grant" in html
    assert "0 of 5" in html


def test_a_reviewer_without_oversight_does_not_see_campaigns(campaign: Any, approver: Any) -> None:
    assert _client(approver).get(CAMPAIGNS).status_code == 403
