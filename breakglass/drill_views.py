"""Drill and reachability pages: the drills of every visible account (due, overdue, results and
delays), one drill, scheduling one (administrator, step-up), and an approver's reachability
confirmation (step-up: the fresh MFA check is the proof). Each view: decorators, a selector, a form,
one service, a redirect."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from breakglass import drill_forms, drill_selectors, drills, list_forms, reachability, rules, selectors
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if, portal_user_required
from portal.forms import add_domain_error
from portal.identity import step_up_required
from portal.paging import CURSOR_PARAMETER, keyset_page


@portal_user_required
def drill_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = list_forms.DrillSearchForm(request.GET or None)
    accounts = drill_selectors.accounts_by_drill_due(
        user=request.user, search=form.value("q"), state=form.value("state")
    )
    page = keyset_page(accounts, ordering=("drill_due_at", "id"), cursor=request.GET.get(CURSOR_PARAMETER))
    return render(
        request,
        "breakglass/drill_list.html",
        {
            "statuses": drill_selectors.drill_statuses(page.items),
            "page": page,
            "form": form,
            "drills": drill_selectors.recent_drills(user=request.user),
            "can_schedule": drill_selectors.may_schedule_drills(request.user),
            "interval_days": settings.PORTAL_DRILL_INTERVAL_DAYS,
            "deadline_minutes": settings.PORTAL_DRILL_EVENT_DEADLINE_MINUTES,
        },
    )


@portal_user_required
def drill_detail(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    drill = drill_selectors.drill_for(user=request.user, uuid=uuid)
    return render(
        request,
        "breakglass/drill_detail.html",
        {
            "drill": drill,
            "may_view_session": rules.may_view_request(request.user, drill.request),
            "deadline_minutes": settings.PORTAL_DRILL_EVENT_DEADLINE_MINUTES,
        },
    )


@allowed_if(policy.may_manage_inventory)
@step_up_required
def drill_schedule(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    account = selectors.account_for(user=request.user, uuid=uuid)
    form = drill_forms.DrillScheduleForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            drill = drills.drill_schedule(administrator=request.user, account=account, **form.cleaned_data)
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                f"Drill {drill.request.code} scheduled and announced; "
                f"{drill.request.requester.get_username()} checks out when the window opens.",
            )
            return redirect("breakglass:drill_detail", uuid=drill.uuid)
    return render(
        request,
        "breakglass/form.html",
        {
            "form": form,
            "back": account,
            "title": f"Schedule a drill of {account.name}",
            "intro": "Everyone who approves, keeps custody of or administers this account, and its "
            "channels, are told now. The custodian checks out in the window, signs in as root (and "
            "nothing else), signs out and checks in; the portal then waits for the root sign-in from "
            f"CloudTrail for {settings.PORTAL_DRILL_EVENT_DEADLINE_MINUTES} minutes and measures the "
            "alert. Your scheduling stands in for the approvals.",
        },
    )


@portal_user_required
def reachability_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "breakglass/reachability.html",
        {"checks": drill_selectors.reachability_checks_of(user=request.user)},
    )


@require_POST
@portal_user_required
@step_up_required
def reachability_confirm(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    check = drill_selectors.reachability_check_for(user=request.user, uuid=uuid)
    try:
        reachability.reachability_confirm(check=check, approver=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Thank you: you are recorded as reachable, with a fresh MFA check.")
    return redirect("breakglass:reachability")
