"""``breakglass.review_rules``: the predicate and its queryset form agree on who reviews what."""

from __future__ import annotations

from typing import Any

import pytest

from breakglass import review_rules
from breakglass.choices import ReviewSubject
from breakglass.models import ReviewItem
from breakglass.tests.reviews.conftest import item_of

pytestmark = pytest.mark.django_db


def test_the_queryset_form_agrees_with_the_predicate(
    campaign: Any, approver: Any, second_approver: Any, custodian: Any, requester: Any, outsider: Any
) -> None:
    for person in (approver, second_approver, custodian, requester, outsider):
        listed = set(ReviewItem.objects.filter(review_rules.reviewable_by_q(person)))
        for item in campaign.items.all():
            assert (item in listed) == review_rules.is_reviewer(person, item), (person, item)


def test_approvers_review_assignments_and_custodians_review_devices(
    campaign: Any, approver: Any, custodian: Any
) -> None:
    assert review_rules.refusal_to_decide_review(approver, item_of(campaign, ReviewSubject.CUSTODIAN)) is None
    assert review_rules.refusal_to_decide_review(custodian, item_of(campaign, ReviewSubject.DEVICE)) is None


def test_the_requester_does_not_review_their_own_grant(campaign: Any, requester: Any) -> None:
    refusal = review_rules.refusal_to_decide_review(requester, item_of(campaign, ReviewSubject.GRANT))
    assert refusal is not None
    assert "own access" in refusal


def test_an_outsider_reviews_nothing(campaign: Any, outsider: Any) -> None:
    assert not ReviewItem.objects.filter(review_rules.reviewable_by_q(outsider)).exists()
