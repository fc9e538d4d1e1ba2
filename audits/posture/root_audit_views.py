"""The organization-wide AssumeRoot audit in the browser: the start button (administrators, step-up),
the run's page with its progress (a small script polls the status endpoint; without script the page
refreshes itself) and what each account gave."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audits.assume_root.models import RootAuditRun, RootAuditRunStatus
from audits.posture import selectors
from audits.posture.root_audit import root_audit_start
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if
from portal.errors import DomainError
from portal.identity import step_up_required

_FINISHED = (RootAuditRunStatus.DONE, RootAuditRunStatus.FAILED)


@require_POST
@allowed_if(policy.may_run_root_audit)
@step_up_required
def root_audit_begin(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        run = root_audit_start(actor=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        latest = selectors.latest_root_audit()
        if latest is not None and latest.status not in _FINISHED:
            return redirect("audits:root_audit_detail", uuid=latest.uuid)
        return redirect("audits:organization_posture")
    return redirect("audits:root_audit_detail", uuid=run.uuid)


@require_GET
@allowed_if(policy.may_view_organization_posture)
def root_audit_detail(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    run = selectors.root_audit_for(user=request.user, uuid=uuid)
    return render(
        request,
        "audits/posture/root_audit.html",
        {
            "run": run,
            "finished": run.status in _FINISHED,
            "status_url": reverse("audits:root_audit_status", args=[run.uuid]),
        },
    )


@require_GET
@allowed_if(policy.may_view_organization_posture)
def root_audit_status(request: AuthenticatedHttpRequest, uuid: UUID) -> JsonResponse:
    """What the run's page polls: status and progress (the per-account lines come with the reload)."""
    run = selectors.root_audit_for(user=request.user, uuid=uuid)
    return JsonResponse(_state(run), headers={"Cache-Control": "no-store"})


def _state(run: RootAuditRun) -> dict[str, object]:
    return {
        "status": run.status,
        "status_label": run.get_status_display(),
        "done": run.accounts_done,
        "total": run.accounts_total,
        "not_checked": run.accounts_failed,
        "finished": run.status in _FINISHED,
        "error": run.error,
    }
