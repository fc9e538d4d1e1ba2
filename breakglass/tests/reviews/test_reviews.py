"""The access-review services: starting a campaign, deciding items, closing, reminding, scheduling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from breakglass import reviews
from breakglass.choices import CampaignStatus, ReviewDecision, ReviewSubject
from breakglass.models import Grant, Notification, ReviewCampaign
from breakglass.tests.reviews.conftest import item_of
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db


def test_it_asks_about_every_grant_assignment_and_device_in_the_safe(campaign: Any) -> None:
    subjects = sorted(campaign.items.values_list("subject", flat=True))
    assert subjects == ["approver", "approver", "custodian", "device", "grant"]
    entry = LedgerEntry.objects.get(action="review.started")
    assert entry.data["items"] == {"grant": 1, "approver": 2, "custodian": 1, "device": 1}


def test_it_asks_the_reviewers_by_email(campaign: Any, approver: Any, custodian: Any) -> None:
    asked = Notification.objects.filter(event="review.started")
    assert {n.recipient for n in asked} >= {approver, custodian}
    mine = asked.get(recipient=approver)
    # alan reviews the grant, the custodian and the second approver, not himself.
    assert "3 access decision(s)" in mine.subject


def test_only_an_administrator_starts_a_campaign(approver: Any) -> None:
    with pytest.raises(DomainError, match="administrator"):
        reviews.review_campaign_start(actor=approver, deadline=timezone.now() + timedelta(days=1))


def test_it_refuses_a_second_open_campaign(campaign: Any, administrator: Any) -> None:
    with pytest.raises(DomainError, match="open already"):
        reviews.review_campaign_start(actor=administrator, deadline=timezone.now() + timedelta(days=1))


def test_keep_records_the_decision_in_the_ledger(campaign: Any, approver: Any, grant: Any) -> None:
    item = item_of(campaign, ReviewSubject.GRANT)
    reviews.review_item_decide(
        item=item, reviewer=approver, decision=ReviewDecision.KEEP, note="still on call"
    )
    item.refresh_from_db()
    assert (item.decision, item.decided_by) == ("keep", approver)
    assert LedgerEntry.objects.get(action="review.decided").data["decision"] == "keep"
    assert Grant.objects.live().filter(pk=grant.pk).exists()
    grant.refresh_from_db()
    assert grant.last_reviewed_by == approver
    assert grant.last_reviewed_at == item.decided_at


def test_revoke_ends_the_grant_through_the_inventory_service(
    campaign: Any, approver: Any, grant: Any
) -> None:
    item = item_of(campaign, ReviewSubject.GRANT)
    reviews.review_item_decide(item=item, reviewer=approver, decision=ReviewDecision.REVOKE)
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    entry = LedgerEntry.objects.get(action="grant.revoked")
    assert entry.data["review_item"] == str(item.uuid)
    assert entry.actor == approver


def test_nobody_reviews_their_own_assignment(campaign: Any, approver: Any) -> None:
    item = item_of(campaign, ReviewSubject.APPROVER, person=approver)
    with pytest.raises(DomainError, match="their own access"):
        reviews.review_item_decide(item=item, reviewer=approver, decision=ReviewDecision.KEEP)


def test_revoking_an_approver_takes_them_off_the_account(
    campaign: Any, approver: Any, second_approver: Any, reviewed_account: Any
) -> None:
    item = item_of(campaign, ReviewSubject.APPROVER, person=approver)
    reviews.review_item_decide(item=item, reviewer=second_approver, decision=ReviewDecision.REVOKE)
    assert list(reviewed_account.approvers.all()) == [second_approver]
    entry = LedgerEntry.objects.filter(action="account.updated").latest("sequence")
    assert entry.data["changes"]["approvers"]["to"] == ["anna.approver"]


def test_an_approver_below_the_quorum_is_not_removed(
    campaign: Any, approver: Any, second_approver: Any, reviewed_account: Any
) -> None:
    reviewed_account.approval_quorum = 2
    reviewed_account.save()
    item = item_of(campaign, ReviewSubject.APPROVER, person=approver)
    with pytest.raises(DomainError, match="quorum"):
        reviews.review_item_decide(item=item, reviewer=second_approver, decision=ReviewDecision.REVOKE)
    item.refresh_from_db()
    assert item.decision == ""
    assert reviewed_account.approvers.count() == 2


def test_revoking_a_custodian_takes_them_off_the_account(
    campaign: Any, approver: Any, custodian: Any, reviewed_account: Any
) -> None:
    item = item_of(campaign, ReviewSubject.CUSTODIAN)
    reviews.review_item_decide(item=item, reviewer=approver, decision=ReviewDecision.REVOKE)
    assert not reviewed_account.custodians.exists()


def test_a_custodian_does_not_review_grants(campaign: Any, custodian: Any) -> None:
    with pytest.raises(DomainError, match="approver of this account"):
        reviews.review_item_decide(
            item=item_of(campaign, ReviewSubject.GRANT), reviewer=custodian, decision=ReviewDecision.KEEP
        )


def test_an_approver_does_not_confirm_devices(campaign: Any, approver: Any) -> None:
    with pytest.raises(DomainError, match="custodian"):
        reviews.review_item_decide(
            item=item_of(campaign, ReviewSubject.DEVICE),
            reviewer=approver,
            decision=ReviewDecision.SEEN,
            serial_seen="YK-0042",
        )


def test_a_device_is_seen_only_with_its_serial(campaign: Any, custodian: Any) -> None:
    item = item_of(campaign, ReviewSubject.DEVICE)
    with pytest.raises(DomainError, match="serial"):
        reviews.review_item_decide(
            item=item, reviewer=custodian, decision=ReviewDecision.SEEN, serial_seen="YK-0043"
        )
    reviews.review_item_decide(
        item=item, reviewer=custodian, decision=ReviewDecision.SEEN, serial_seen=" yk-0042 "
    )
    item.refresh_from_db()
    assert item.decision == "seen"


def test_keep_is_not_a_device_decision(campaign: Any, custodian: Any) -> None:
    with pytest.raises(DomainError, match="does not fit"):
        reviews.review_item_decide(
            item=item_of(campaign, ReviewSubject.DEVICE), reviewer=custodian, decision=ReviewDecision.KEEP
        )


def test_an_item_is_decided_once(campaign: Any, approver: Any, second_approver: Any) -> None:
    item = item_of(campaign, ReviewSubject.GRANT)
    reviews.review_item_decide(item=item, reviewer=approver, decision=ReviewDecision.KEEP)
    with pytest.raises(DomainError, match="decided already"):
        reviews.review_item_decide(item=item, reviewer=second_approver, decision=ReviewDecision.REVOKE)


def test_at_the_deadline_undecided_grants_expire_and_the_campaign_closes(campaign: Any, grant: Any) -> None:
    closed = reviews.review_campaigns_close_due(now=campaign.deadline + timedelta(minutes=1))
    assert closed == 1
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    assert not Grant.objects.live().filter(pk=grant.pk).exists()
    assert LedgerEntry.objects.get(action="grant.expired_unreviewed").data["review_item"]
    assert LedgerEntry.objects.get(action="review.closed").data["undecided"] == 5


def test_a_campaign_set_to_keep_leaves_undecided_grants(campaign: Any, grant: Any) -> None:
    ReviewCampaign.objects.filter(pk=campaign.pk).update(undecided_outcome="keep")
    reviews.review_campaigns_close_due(now=campaign.deadline + timedelta(minutes=1))
    assert Grant.objects.live().filter(pk=grant.pk).exists()


def test_a_campaign_before_its_deadline_stays_open(campaign: Any) -> None:
    assert reviews.review_campaigns_close_due(now=campaign.deadline - timedelta(minutes=1)) == 0


def test_a_closed_campaign_takes_no_decisions(campaign: Any, approver: Any) -> None:
    reviews.review_campaigns_close_due(now=campaign.deadline + timedelta(minutes=1))
    with pytest.raises(DomainError, match="closed"):
        reviews.review_item_decide(
            item=item_of(campaign, ReviewSubject.CUSTODIAN), reviewer=approver, decision=ReviewDecision.KEEP
        )


def test_reviewers_are_reminded_weekly(campaign: Any) -> None:
    assert reviews.review_campaigns_remind(now=campaign.created_at + timedelta(days=1)) == 0
    assert reviews.review_campaigns_remind(now=campaign.created_at + timedelta(days=7, minutes=1)) == 3
    assert Notification.objects.filter(event="review.reminder").count() == 3


def test_the_schedule_starts_a_campaign_every_interval(grant: Any, settings: Any) -> None:
    settings.PORTAL_REVIEW_INTERVAL_DAYS = 180
    first = reviews.review_campaign_start_if_due()
    assert first is not None
    assert first.started_by is None
    reviews.review_campaigns_close_due(now=first.deadline + timedelta(minutes=1))
    assert reviews.review_campaign_start_if_due(now=timezone.now() + timedelta(days=179)) is None
    assert reviews.review_campaign_start_if_due(now=timezone.now() + timedelta(days=181)) is not None
