"""The organization page: what the last sync changed, past syncs, ungoverned accounts, and the
administrators' "sync now" (step-up; a worker runs it)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from audits.organization import selectors, service
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if
from portal.errors import DomainError
from portal.identity import step_up_required
from portal.paging import CURSOR_PARAMETER, keyset_page

SYNCS_PER_PAGE = 20


@allowed_if(policy.may_view_organization)
def organization_overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    last = selectors.last_finished_sync(user=request.user)
    syncs = keyset_page(
        selectors.syncs_visible_to(user=request.user),
        ordering=("-started_at", "-id"),
        cursor=request.GET.get(CURSOR_PARAMETER),
        size=SYNCS_PER_PAGE,
    )
    return render(
        request,
        "audits/organization/overview.html",
        {
            "last": last,
            "changes": selectors.sync_changes(sync=last) if last else [],
            "page": syncs,
            "ungoverned": selectors.ungoverned_accounts(user=request.user),
            "may_sync": policy.may_manage_inventory(request.user),
        },
    )


@allowed_if(policy.may_view_organization)
def organization_sync_detail(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    sync = selectors.sync_for(user=request.user, uuid=uuid)
    return render(
        request,
        "audits/organization/sync_detail.html",
        {"sync": sync, "changes": selectors.sync_changes(sync=sync)},
    )


@require_POST
@allowed_if(policy.may_manage_inventory)
@step_up_required
def organization_sync_now(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        run = service.organization_sync_queue(actor=request.user)
    except DomainError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("audits:organization")
    messages.success(
        request, "The sync is queued; a worker reads the organization now. This page shows what it changed."
    )
    return redirect("audits:organization_sync", uuid=run.uuid)
