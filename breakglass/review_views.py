"""Access-review pages: a reviewer's waiting decisions, campaigns and their progress, starting one.
Each view: decorators (login, policy, step-up), a selector, a form, one service, a redirect."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from breakglass import review_forms, review_selectors, reviews
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if, portal_user_required
from portal.forms import add_domain_error
from portal.identity import step_up_required
from portal.paging import CURSOR_PARAMETER, keyset_page


@portal_user_required
def review_inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    items = keyset_page(
        review_selectors.items_waiting_for(user=request.user),
        ordering=("created_at", "id"),
        cursor=request.GET.get(CURSOR_PARAMETER),
    )
    return render(
        request,
        "breakglass/review_inbox.html",
        {"items": items, "page": items, "can_follow": review_selectors.may_follow_reviews(request.user)},
    )


@require_POST
@portal_user_required
@step_up_required
def review_item_decide(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    item = review_selectors.item_for(user=request.user, uuid=uuid)
    form = review_forms.ReviewDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a decision (and a note of at most 4,000 characters).")
        return redirect("breakglass:review_inbox")
    try:
        reviews.review_item_decide(item=item, reviewer=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, f"{item}: {' '.join(error.messages)}")
    else:
        messages.success(request, f"{item}: {form.cleaned_data['decision']}.")
    return redirect("breakglass:review_inbox")


@allowed_if(review_selectors.may_follow_reviews)
def campaign_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    campaigns = keyset_page(
        review_selectors.campaigns_with_progress(user=request.user),
        ordering=("-created_at", "-id"),
        cursor=request.GET.get(CURSOR_PARAMETER),
    )
    return render(
        request,
        "breakglass/review_campaign_list.html",
        {
            "campaigns": campaigns,
            "page": campaigns,
            "can_start": policy.may_manage_inventory(request.user),
        },
    )


@allowed_if(review_selectors.may_follow_reviews)
def campaign_detail(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = review_selectors.campaign_for(user=request.user, uuid=uuid)
    # One item per grant, assignment and device: thousands in a large organization.
    items = keyset_page(
        review_selectors.campaign_items(campaign),
        ordering=("subject", "id"),
        cursor=request.GET.get(CURSOR_PARAMETER),
    )
    return render(
        request,
        "breakglass/review_campaign_detail.html",
        {
            "campaign": campaign,
            "progress": review_selectors.progress_by_subject(campaign),
            "items": items,
            "page": items,
        },
    )


@allowed_if(policy.may_manage_inventory)
@step_up_required
def campaign_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = review_forms.CampaignStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = reviews.review_campaign_start(
                actor=request.user, deadline=form.cleaned_data["deadline"]
            )
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Started the {campaign}: {campaign.items.count()} question(s) asked.")
            return redirect("breakglass:review_campaign_detail", uuid=campaign.uuid)
    return render(
        request,
        "breakglass/form.html",
        {
            "form": form,
            "title": "Start an access review",
            "intro": "Every live grant, approver and custodian assignment, and every MFA device in the "
            "safe, goes to its account's reviewers to keep or revoke (devices: to be seen, serial typed).",
        },
    )
