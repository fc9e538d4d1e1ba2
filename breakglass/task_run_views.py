"""The result page of an AssumeRoot task the portal ran for a session (issue 12).

Read-only: whoever may see the request sees its runs (``request_selectors.request_for``). The run
itself is started by ``audits.task_run_views.request_run_task`` (the AWS side lives in ``audits``,
which ``breakglass`` never imports).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.http import Http404, HttpResponse
from django.shortcuts import render

from breakglass import request_selectors
from breakglass.root_tasks import BY_CODE as ROOT_TASKS
from portal.decorators import AuthenticatedHttpRequest, portal_user_required

#: Words AWS spells in capitals, kept so in a result's labels.
_WORDS = {"mfa": "MFA", "sqs": "SQS", "s3": "S3", "arn": "ARN", "url": "URL", "id": "ID", "ids": "IDs"}


@dataclass(frozen=True)
class FoundRow:
    """One line of what a task found or did: a short value inline, a policy or list as a block."""

    label: str
    text: str
    block: bool


def found_rows(found: dict[str, Any]) -> list[FoundRow]:
    """The result's fields as people read them, in the order the AWS layer gave them."""
    rows: list[FoundRow] = []
    for key, value in found.items():
        label = _label(key)
        if isinstance(value, bool):
            rows.append(FoundRow(label, "yes" if value else "no", False))
        elif value is None or value == "" or value == [] or value == {}:
            rows.append(FoundRow(label, "none", False))
        elif isinstance(value, str | int | float):
            text = str(value)
            # A policy document arrives as JSON text: shown as written, in a block.
            rows.append(FoundRow(label, _pretty(text), len(text) > 80 or text.lstrip().startswith("{")))
        elif isinstance(value, list) and all(isinstance(item, str | int) for item in value):
            rows.append(FoundRow(label, ", ".join(str(item) for item in value), False))
        else:
            rows.append(FoundRow(label, json.dumps(value, indent=2, sort_keys=True, default=str), True))
    return rows


def _label(key: str) -> str:
    """``mfa_devices_deactivated`` -> ``MFA devices deactivated``."""
    text = " ".join(_WORDS.get(word, word) for word in key.split("_"))
    return text[:1].upper() + text[1:]


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


@portal_user_required
def task_run_detail(request: AuthenticatedHttpRequest, uuid: UUID, run_uuid: UUID) -> HttpResponse:
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    run = next((run for run in access_request.task_runs.all() if run.uuid == run_uuid), None)
    if run is None:
        raise Http404("No such run.")
    return render(
        request,
        "breakglass/task_run_detail.html",
        {
            "r": access_request,
            "run": run,
            "task": ROOT_TASKS.get(run.task_code),
            "rows": found_rows(run.found or {}),
            "is_holder": access_request.requester_id == request.user.pk,
        },
    )
