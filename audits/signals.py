"""Findings follow check-out windows: a status change of a check-out reconciles its account.

A check-in earlier than some root events turns them unapproved; a revocation closes the window; a
check-out opens one that late-delivered events may fall into. ``breakglass`` must not import
``audits``, so the evidence side listens for the named signal the lifecycle sends whenever a request
changes status (``breakglass.signals.request_status_changed``) instead of being called by it.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery import current_app
from django.db import transaction
from django.dispatch import receiver

from audits.reconcile import reconcile
from breakglass.choices import RequestStatus
from breakglass.models import AccessRequest
from breakglass.signals import request_status_changed

logger = logging.getLogger(__name__)

RECONCILE_TASK = "audits.tasks.reconcile_accounts"
#: Status changes that open, move or close a check-out's window (or its deadlines).
WINDOW_CHANGES = frozenset(
    {RequestStatus.ACTIVE, RequestStatus.RETURNED, RequestStatus.REVOKED, RequestStatus.CLOSED}
)


@receiver(request_status_changed, dispatch_uid="audits.reconcile_after_status_change")
def reconcile_after_status_change(
    sender: type[AccessRequest], *, request: AccessRequest, to_status: str, **_: Any
) -> None:
    if to_status not in WINDOW_CHANGES:
        return
    # The lifecycle services load the request with its account, so this costs no query there.
    account_id = request.account.account_id
    # After commit: the reconciliation must see the new window, and a rolled-back change none.
    transaction.on_commit(partial(schedule_reconciliation, [account_id]), robust=True)


def schedule_reconciliation(account_ids: list[str]) -> None:
    """Hand the accounts to the reconciliation task, or reconcile here when there is none.

    A registered task is sent through ``apply_async`` (which honours ``task_always_eager`` in tests
    and development); without the task in this process the reconciliation runs inline, since a task
    name nobody consumes would be lost silently. A broker that is down only delays the findings: the
    next ingestion or scheduled reconciliation recomputes them.
    """
    task = current_app.tasks.get(RECONCILE_TASK)
    if task is None:
        reconcile(account_ids=account_ids)
        return
    try:
        task.apply_async(args=(account_ids,))
    except Exception as error:
        # Only the class name: a broker error's text may carry the broker URL and its password.
        logger.warning("could not queue reconciliation of %s (%s)", account_ids, type(error).__name__)
