"""Reads of access reviews that depend on who asks: a reviewer's waiting items, campaigns and their
progress for those who manage or audit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from breakglass.choices import CampaignStatus
from breakglass.models import ReviewCampaign, ReviewItem
from breakglass.review_rules import reviewable_by_q
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


def may_follow_reviews(user: AnyUser) -> bool:
    """Administrators run access reviews; auditors read them."""
    return policy.may_manage_inventory(user) or policy.may_view_ledger(user)


def items_waiting_for(*, user: AnyUser) -> QuerySet[ReviewItem]:
    """The undecided items of open campaigns that ``user`` reviews, oldest first."""
    return (
        ReviewItem.objects.filter(reviewable_by_q(user), decision="", campaign__status=CampaignStatus.OPEN)
        .select_related("campaign", "account", "person", "grant", "device")
        .prefetch_related("device__accounts")
        .order_by("created_at", "id")
    )


def item_for(*, user: AnyUser, uuid: UUID) -> ReviewItem:
    """One item ``user`` reviews, or 404 (whether it exists is not disclosed)."""
    try:
        return ReviewItem.objects.filter(reviewable_by_q(user)).select_related("campaign").get(uuid=uuid)
    except ReviewItem.DoesNotExist:
        raise Http404("No such review item.") from None


def campaigns_with_progress(*, user: AnyUser) -> QuerySet[ReviewCampaign]:
    """Every campaign, newest first, with its item and decided counts, for those who follow reviews."""
    if not may_follow_reviews(user):
        return ReviewCampaign.objects.none()
    return ReviewCampaign.objects.select_related("started_by").annotate(
        item_count=Count("items"), decided_count=Count("items", filter=~Q(items__decision=""))
    )


def campaign_for(*, user: AnyUser, uuid: UUID) -> ReviewCampaign:
    try:
        return campaigns_with_progress(user=user).get(uuid=uuid)
    except ReviewCampaign.DoesNotExist:
        raise Http404("No such access review.") from None


def campaign_items(campaign: ReviewCampaign) -> QuerySet[ReviewItem]:
    return campaign.items.select_related("account", "person", "device", "decided_by").order_by(
        "subject", "account__name", "id"
    )


def progress_by_subject(campaign: ReviewCampaign) -> list[dict[str, Any]]:
    """Per kind of question: how many, how many decided, and how many revoked or missing."""
    rows = campaign.items.values("subject").annotate(
        total=Count("id"),
        decided=Count("id", filter=~Q(decision="")),
        revoked=Count("id", filter=Q(decision__in=["revoke", "missing"])),
    )
    return list(rows.order_by("subject"))
