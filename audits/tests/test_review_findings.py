"""``audits.review_findings``: an access review closed with undecided items raises one high finding
``access_review_incomplete`` per account (and one for devices), with its ledger entry, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audits.choices import FindingKind, Severity
from audits.models import Finding
from audits.review_findings import access_review_incomplete
from breakglass import reviews
from breakglass.choices import ReviewDecision, ReviewSubject
from breakglass.models import ReviewCampaign
from breakglass.tests.factories import AwsAccountFactory, GrantFactory, MfaDeviceFactory
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(approver: Any, second_approver: Any, custodian: Any) -> Any:
    account = AwsAccountFactory(name="payments-prod", account_id="123456789012")
    account.approvers.set([approver, second_approver])
    account.custodians.set([custodian])
    return account


@pytest.fixture
def campaign(administrator: Any, requester: Any, account: Any) -> Any:
    GrantFactory(user=requester, account=account, granted_by=administrator)
    key = MfaDeviceFactory(serial_number="YK-7")
    key.assignments.create(account=account, device_kind=key.kind)
    return reviews.review_campaign_start(actor=administrator, deadline=timezone.now() + timedelta(days=1))


def test_undecided_items_at_the_deadline_are_high_findings(campaign: Any, account: Any) -> None:
    reviews.review_campaigns_close_due(now=campaign.deadline + timedelta(minutes=1))
    findings = Finding.objects.filter(kind=FindingKind.ACCESS_REVIEW_INCOMPLETE)
    assert findings.count() == 2  # the account's questions, and the device's
    mine = findings.get(account=account)
    assert mine.severity == Severity.HIGH
    assert mine.aws_account_id == account.account_id
    assert "4 undecided" in mine.summary
    raised = LedgerEntry.objects.filter(action="finding.raised", target_id=str(mine.uuid)).get()
    assert len(raised.data["review_items"]) == 4


def test_a_fully_decided_campaign_raises_nothing(
    campaign: Any, approver: Any, second_approver: Any, custodian: Any
) -> None:
    for item in campaign.items.all():
        if item.subject == ReviewSubject.DEVICE:
            reviewer, decision, serial = custodian, ReviewDecision.SEEN, "YK-7"
        else:
            reviewer = second_approver if item.person_id == approver.pk else approver
            decision, serial = ReviewDecision.KEEP, ""
        reviews.review_item_decide(item=item, reviewer=reviewer, decision=decision, serial_seen=serial)
    reviews.review_campaigns_close_due(now=campaign.deadline + timedelta(minutes=1))
    assert not Finding.objects.filter(kind=FindingKind.ACCESS_REVIEW_INCOMPLETE).exists()


def test_the_same_closing_raises_its_findings_once(campaign: Any) -> None:
    reviews.review_campaigns_close_due(now=campaign.deadline + timedelta(minutes=1))
    campaign = ReviewCampaign.objects.get(pk=campaign.pk)
    undecided = list(campaign.items.filter(decision=""))
    assert access_review_incomplete(sender=ReviewCampaign, campaign=campaign, undecided=undecided) == []
    assert Finding.objects.filter(kind=FindingKind.ACCESS_REVIEW_INCOMPLETE).count() == 2
