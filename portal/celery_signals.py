"""Carry the request id from the web request into the Celery tasks it queues.

A ledger entry written by a task then shares the request id of the click that caused it.
"""

from __future__ import annotations

import uuid
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun

from portal.middleware import current_request_id, set_request_id

HEADER = "portal_request_id"


@before_task_publish.connect
def _attach_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if headers is not None:
        headers.setdefault(HEADER, current_request_id())


@task_prerun.connect
def _adopt_request_id(task: Any = None, **kwargs: Any) -> None:
    incoming = getattr(getattr(task, "request", None), HEADER, None)
    set_request_id(incoming if incoming and incoming != "-" else f"task-{uuid.uuid4().hex}")


@task_postrun.connect
def _forget_request_id(**kwargs: Any) -> None:
    set_request_id("-")
