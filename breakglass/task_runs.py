"""Carrying out a session's AssumeRoot task: the two writes around the AWS call (issue 12).

The portal, not the holder, calls ``sts:AssumeRoot``; ``audits.task_runner`` drives it:
:func:`task_run_start` (the holder pressed "Run task": rules asked on the locked request, a
*running* row and its ledger entry, committed before AWS is called so that two presses cannot both
run), then ``audits.assume_root.run_root_task`` (which records the issued key before using it), then
:func:`task_run_finish` (the outcome, its ledger entry and, on success, the session's check-in, in
one transaction). ``breakglass`` never imports ``audits``: the outcome comes in as plain values.

One run per approved session: once a run succeeded the session is checked in, so it cannot run
again; a failed run (AWS refused, the bucket had no policy, ...) may be retried until the session is
due, and the holder sees each failure's reason. A run still *running* after
:data:`ABANDONED_AFTER` (the process died between AWS and the database) is marked failed by the next
press, which then runs again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from breakglass import rules
from breakglass.choices import RequestStatus, TaskRunStatus
from breakglass.lifecycle import lock_request, refuse, transition
from breakglass.models import AccessRequest, RootTaskRun
from breakglass.notifications import outbox
from breakglass.root_tasks import task_title
from ledger import services as ledger
from portal.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

S = RequestStatus
R = TaskRunStatus

#: AssumeRoot credentials last at most 900 s: a run older than this without an answer is dead.
ABANDONED_AFTER = timedelta(minutes=20)


def task_target(request: AccessRequest) -> dict[str, str]:
    """What the request's task acts on, as approved (empty for the credential tasks)."""
    if request.task_bucket_name:
        return {"bucket_name": request.task_bucket_name}
    if request.task_queue_url:
        return {"queue_url": request.task_queue_url}
    return {}


def task_run_start(*, request: AccessRequest, holder: User) -> RootTaskRun:
    """The holder asks the portal to run the session's AssumeRoot task: a *running* row, committed
    before AWS is called. Refused with the reason when the session may not run it now."""
    with transaction.atomic():
        locked = lock_request(request)
        refuse(rules.refusal_to_run_task(holder, locked))
        now = timezone.now()
        if locked.due_at is not None and now > locked.due_at:
            raise DomainError(
                f"{locked.code} was due at {locked.due_at:%Y-%m-%d %H:%M} UTC: its time to run the task "
                "is over. Check in, and make a new request to try again."
            )
        earlier = list(RootTaskRun.objects.select_for_update().filter(request=locked))
        for run in earlier:
            if run.status == R.SUCCEEDED:
                raise DomainError(f"The task of {locked.code} already ran; one run per approved session.")
            if run.status == R.RUNNING:
                if now - run.started_at < ABANDONED_AFTER:
                    raise DomainError("The task is running; wait for its result on this page.")
                _abandon(run, now)
        try:
            with transaction.atomic():
                run = RootTaskRun.objects.create(
                    request=locked,
                    run_by=holder,
                    task_code=locked.root_task,
                    target=task_target(locked),
                    started_at=now,
                )
        except IntegrityError:
            raise DomainError("The task is running; wait for its result on this page.") from None
        ledger.record(
            actor=holder,
            action="root_task.started",
            target=locked,
            data={
                "code": locked.code,
                "account_id": locked.account.account_id,
                "task": locked.root_task,
                "target": run.target,
                "attempt": len(earlier) + 1,
                "run": str(run.uuid),
            },
        )
    return run


def _abandon(run: RootTaskRun, now: datetime) -> None:
    run.status = R.FAILED
    run.error = "The portal stopped before AWS answered; the run was given up."
    run.finished_at = now
    run.save(update_fields=["status", "error", "finished_at", "updated_at"])
    ledger.record(
        actor=None,
        action="root_task.abandoned",
        target=run.request,
        data={"code": run.request.code, "run": str(run.uuid), "started_at": run.started_at.isoformat()},
    )


def task_run_finish(
    *,
    run: RootTaskRun,
    ok: bool,
    error: str,
    access_key_id: str,
    found: dict[str, Any],
    finished_at: datetime,
) -> RootTaskRun:
    """Store what AWS answered, with its ledger entry; a success checks the session in (the task is
    done, no password or device is out), in the same transaction."""
    with transaction.atomic():
        request = lock_request(run.request)
        locked = RootTaskRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != R.RUNNING:
            raise DomainError("This run already has its result.")
        locked.status = R.SUCCEEDED if ok else R.FAILED
        locked.error = "" if ok else (error or "AWS gave no reason.")
        locked.access_key_id = access_key_id
        locked.found = found
        locked.finished_at = finished_at
        locked.save()
        ledger.record(
            actor=locked.run_by,
            action="root_task.succeeded" if ok else "root_task.failed",
            target=request,
            data={
                "code": request.code,
                "account_id": request.account.account_id,
                "task": locked.task_code,
                "target": locked.target,
                "run": str(locked.uuid),
                "access_key_id": access_key_id,
                "error": locked.error,
                "found": found,
            },
        )
        if ok and request.status == S.ACTIVE:
            request.checked_in_at = finished_at
            request.checked_in_by = locked.run_by
            request.work_done = done_text(locked)
            request.save()
            transition(request, S.RETURNED, actor=locked.run_by, note=request.work_done)
            outbox.queue(event="request.task_ran", request=request, actor=locked.run_by)
    return locked


def done_text(run: RootTaskRun) -> str:
    """What the session did, for its check-in note."""
    target = f" on {run.target_text}" if run.target_text else ""
    key = f" (AssumeRoot key {run.access_key_id})" if run.access_key_id else ""
    return (
        f"The portal ran “{task_title(run.task_code)}”{target} through sts:AssumeRoot{key}; "
        "the result is kept as evidence."
    )
