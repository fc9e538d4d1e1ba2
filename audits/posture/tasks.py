"""Celery tasks of the posture checks (registered in ``AuditsConfig.ready``): beat runs
``check_posture`` daily (``portal.celery``); the contacts fix queues ``check_posture_accounts`` for
the accounts it changed, so their findings resolve without waiting for the next day."""

from __future__ import annotations

from functools import partial

from celery import current_app, shared_task
from django.db import transaction

from audits.posture.root_audit import root_audit_run
from audits.posture.service import PostureRun, posture_check_all


def _summary(run: PostureRun) -> dict[str, int]:
    return {"accounts": len(run.accounts), "failing": run.failing, "errors": run.errors}


@shared_task(name="audits.posture.tasks.check_posture", acks_late=True)
def check_posture() -> dict[str, int]:
    """Daily (beat): every account's root posture. No retry: an account AWS did not answer is an
    error result on its page, and tomorrow's run (or the command) tries again."""
    return _summary(posture_check_all())


@shared_task(name="audits.posture.tasks.check_posture_accounts", acks_late=True)
def check_posture_accounts(account_ids: list[str]) -> dict[str, int]:
    """These accounts now (after a change made from the portal, or on an administrator's request)."""
    return _summary(posture_check_all(account_ids=account_ids))


def queue_check(account_ids: list[str]) -> None:
    """Check these accounts once the current transaction commits (by task name, as notifications are
    handed over: in place under ``task_always_eager``, else to a worker)."""
    transaction.on_commit(partial(_hand_over, sorted(account_ids)), robust=True)


def _hand_over(account_ids: list[str]) -> None:
    current_app.signature("audits.posture.tasks.check_posture_accounts", args=(account_ids,)).apply_async()


@shared_task(name="audits.posture.tasks.run_root_audit", acks_late=True)
def run_root_audit(run_id: int) -> dict[str, int] | None:
    """The AssumeRoot audit of every centralised account (``root_audit.root_audit_run``). No retry:
    a redelivered task finds the run no longer queued and leaves it; an administrator starts another."""
    run = root_audit_run(run_id)
    if run is None:
        return None
    return {"accounts": run.accounts_total, "checked": run.accounts_done, "not_checked": run.accounts_failed}
