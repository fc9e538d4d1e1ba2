"""The "Run task" button of an AssumeRoot session (issue 12). It lives on the evidence side because
it calls AWS (``audits.task_runner``); the request page (``breakglass``) shows it through the same
rule, ``breakglass.rules.refusal_to_run_task``, and links here by URL name."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from audits.task_runner import root_task_carry_out
from breakglass import request_selectors
from breakglass.choices import TaskRunStatus
from breakglass.root_tasks import task_title
from portal.decorators import AuthenticatedHttpRequest, portal_user_required
from portal.errors import DomainError
from portal.identity import step_up_purpose, step_up_required


def _confirming_run(request: AuthenticatedHttpRequest, uuid: UUID) -> str:
    """What the step-up page names: the task, the request and the account (no secret in it)."""
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    return (
        f"Run “{task_title(access_request.root_task)}” for {access_request.code} on "
        f"{access_request.account.name} ({access_request.account.account_id})"
    )


@require_POST
@portal_user_required
@step_up_purpose(_confirming_run)
@step_up_required
def request_run_task(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    try:
        run = root_task_carry_out(request=access_request, holder=request.user)
    except DomainError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("breakglass:request_detail", uuid=access_request.uuid)
    if run.status == TaskRunStatus.SUCCEEDED:
        messages.success(
            request, f"The task of {access_request.code} ran; {access_request.code} is checked in."
        )
    else:
        messages.error(request, f"The task of {access_request.code} failed: {run.error}")
    return redirect("breakglass:task_run_detail", uuid=access_request.uuid, run_uuid=run.uuid)
