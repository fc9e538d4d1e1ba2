"""Carrying out a session's AssumeRoot task: the portal's one path from "Run task" to AWS and back.

``breakglass.task_runs`` owns the two writes (the *running* row before AWS is called; the outcome,
its ledger entry and the session's check-in after); ``audits.assume_root.run_root_task`` is the only
code that calls ``sts:AssumeRoot`` (it records the issued key, purpose ``session`` and the request's
code as reference, before using the credentials). The AWS call is outside any transaction: the row
lock of the request is not held while AWS answers, and the issued key is committed whatever happens
next, so reconciliation can always tie the member account's records to the session.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from audits.assume_root import TaskTarget, run_root_task
from audits.signals import schedule_reconciliation
from breakglass import task_runs
from breakglass.models import AccessRequest, RootTaskRun

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

#: What the session passes to ``run_root_task`` as the issued key's purpose (``IssuedRootKey``).
SESSION_PURPOSE = "session"


def root_task_carry_out(*, request: AccessRequest, holder: User) -> RootTaskRun:
    """Run the session's AssumeRoot task for its holder; the finished run (succeeded or failed with
    its reason). Raises ``DomainError`` only when the session may not run it now."""
    run = task_runs.task_run_start(request=request, holder=holder)
    target = TaskTarget(bucket_name=request.task_bucket_name, queue_url=request.task_queue_url)
    try:
        outcome = run_root_task(
            run.task_code,
            request.account.account_id,
            target,
            purpose=SESSION_PURPOSE,
            reference=request.code,
        )
    except Exception as error:
        # run_root_task answers AWS's refusals itself; this is a fault of ours. The run still ends,
        # with only the exception's class: its text could hold what the page must not show.
        logger.exception("AssumeRoot task of %s failed inside the portal", request.code)
        return task_runs.task_run_finish(
            run=run,
            ok=False,
            error=f"The portal failed before AWS answered ({type(error).__name__}); an administrator "
            "can read the worker's log.",
            access_key_id="",
            found={},
            finished_at=timezone.now(),
        )
    finished = task_runs.task_run_finish(
        run=run,
        ok=outcome.ok,
        error=outcome.error,
        access_key_id=outcome.access_key_id,
        found=outcome.found,
        finished_at=outcome.finished_at,
    )
    if outcome.access_key_id:
        # The member account's records made with this key may already be stored: match them now
        # (a success also reconciles through the check-in's status change; once more costs little).
        transaction.on_commit(partial(schedule_reconciliation, [request.account.account_id]), robust=True)
    return finished
