"""The lists each role works from: my requests, approvals waiting or decided, active sessions and
the custody board. Each pages by keyset (``portal.paging``) with its search form."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from breakglass import request_selectors
from breakglass.list_forms import ApprovalSearchForm, RequestSearchForm
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if, portal_user_required
from portal.paging import CURSOR_PARAMETER, keyset_page


@portal_user_required
def request_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """My requests."""
    user = request.user
    form = RequestSearchForm(request.GET or None)
    mine = request_selectors.requests_of(user=user, search=form.value("q"), status=form.value("status"))
    page = keyset_page(mine, ordering=("-created_at", "-id"), cursor=request.GET.get(CURSOR_PARAMETER))
    return render(
        request,
        "breakglass/request_list.html",
        {
            "title": "My requests",
            "requests": page,
            "page": page,
            "form": form,
            "can_request": request_selectors.requestable_accounts(user=user).exists(),
            "now": timezone.now(),
            "empty": "You have not asked for root access yet.",
        },
    )


@portal_user_required
def request_approvals(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Waiting for my approval (oldest first: the longest wait on top), or what I decided."""
    user = request.user
    form = ApprovalSearchForm(request.GET or None)
    decided = form.value("show") == "decided"
    if decided:
        found = request_selectors.requests_decided_by(user=user, search=form.value("q"))
        ordering: tuple[str, ...] = ("-created_at", "-id")
    else:
        found = request_selectors.requests_awaiting_decision(user=user, search=form.value("q"))
        ordering = ("created_at", "id")
    page = keyset_page(found, ordering=ordering, cursor=request.GET.get(CURSOR_PARAMETER))
    return render(
        request,
        "breakglass/request_list.html",
        {
            "title": "Decided by me" if decided else "Waiting for my approval",
            "requests": page,
            "page": page,
            "form": form,
            "show_requester": True,
            "now": timezone.now(),
            "empty": "You have decided no request yet."
            if decided
            else "Nothing is waiting for your decision.",
            "approval_tabs": True,
            "decided": decided,
        },
    )


@portal_user_required
def request_active(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Active sessions, the soonest due first."""
    form = RequestSearchForm(request.GET or None, with_status=False)
    sessions = request_selectors.active_sessions(user=request.user, search=form.value("q"))
    page = keyset_page(sessions, ordering=("due_at", "id"), cursor=request.GET.get(CURSOR_PARAMETER))
    return render(
        request,
        "breakglass/request_active.html",
        {"sessions": page, "page": page, "form": form, "now": timezone.now()},
    )


#: The query-string parameter of the passwords' pages on the custody board (the devices use ``cursor``).
PASSWORDS_CURSOR = "passwords"


@allowed_if(policy.may_view_devices)
def custody_board(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = RequestSearchForm(
        request.GET or None, with_status=False, placeholder="Account, device label or serial"
    )
    board = request_selectors.custody_board(user=request.user, search=form.value("q"))
    devices = keyset_page(
        board.devices, ordering=("custody_state", "label", "id"), cursor=request.GET.get(CURSOR_PARAMETER)
    )
    credentials = keyset_page(
        board.credentials, ordering=("-rotation_required", "id"), cursor=request.GET.get(PASSWORDS_CURSOR)
    )
    return render(
        request,
        "breakglass/request_custody.html",
        {
            "devices": devices,
            "page": devices,
            "credentials": credentials,
            "form": form,
            "now": timezone.now(),
        },
    )
