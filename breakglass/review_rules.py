"""Who may decide an access-review item: the one home of the rule, in the style of
:mod:`breakglass.rules` (a refusal with its reason, and the queryset form beside it).

The reviewers of a grant, an approver or a custodian assignment are the account's approvers; of an
MFA device in the safe, the custodians of the accounts it is registered on. Nobody decides on their
own grant or assignment (the database refuses it too: ``review_not_own_access``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from breakglass.choices import CampaignStatus, ReviewSubject
from breakglass.models import AwsAccount, MfaDevice, ReviewItem
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


def reviewable_by_q(user: AnyUser) -> Q:
    """The items ``user`` is a reviewer of, less their own access (decided or not)."""
    if not policy.may_use_portal(user):
        return Q(pk__in=[])
    as_approver = ~Q(subject=ReviewSubject.DEVICE) & Q(
        account__in=AwsAccount.objects.filter(approvers=user.pk)
    )
    as_custodian = Q(
        subject=ReviewSubject.DEVICE, device__in=MfaDevice.objects.filter(accounts__custodians=user.pk)
    )
    return (as_approver | as_custodian) & ~Q(person=user.pk)


def is_reviewer(user: AnyUser, item: ReviewItem) -> bool:
    """``user`` is one of ``item``'s reviewers (their own access excluded)."""
    return ReviewItem.objects.filter(reviewable_by_q(user), pk=item.pk).exists()


def refusal_to_decide_review(user: AnyUser, item: ReviewItem) -> str | None:
    """Why ``user`` may not decide ``item`` now, or None."""
    if item.person_id is not None and item.person_id == user.pk:
        return "Nobody reviews their own access; another reviewer of the account decides this."
    if not is_reviewer(user, item):
        if item.subject == ReviewSubject.DEVICE:
            return "Only a custodian of an account this device serves may confirm it is in the safe."
        return "Only an approver of this account may review its access."
    if item.campaign.status != CampaignStatus.OPEN:
        return "This access review is closed."
    if item.decision:
        return f"This was decided already ({item.get_decision_display().lower()})."
    return None
