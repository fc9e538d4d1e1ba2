"""The AssumeRoot credentials audit across every centralised account (issue 12, item 3): every write of
``RootAuditRun``.

:func:`root_audit_start` (an administrator's button, or ``check_posture --assume-root-audit``) records
the run and its ledger entry (``root_audit.started``) in one transaction and hands the run to a worker
once that commits. :func:`root_audit_run` (the task ``audits.posture.tasks.run_root_audit``, or the
command in place) claims it, then checks the centralised accounts one after another,
``PORTAL_ROOT_AUDIT_INTERVAL_MS`` apart: each through ``posture_check_account``, whose reading of a
centralised account is the AssumeRoot audit task (keys recorded with purpose ``posture`` and the run's
reference), so the results are the posture results and findings. Progress is saved after each account;
the end is ``root_audit.finished`` (or ``root_audit.failed``) in the ledger.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from audits.assume_root.models import RootAuditRun, RootAuditRunStatus
from audits.posture import aws
from audits.posture.service import AccountRun, posture_check_account
from breakglass.choices import GovernanceMode
from breakglass.models import AwsAccount
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

RUN_TASK = "audits.posture.tasks.run_root_audit"
_ACTIVE = (RootAuditRunStatus.QUEUED, RootAuditRunStatus.RUNNING)


def centralised_accounts() -> QuerySet[AwsAccount]:
    """The accounts the audit covers: every centralised one (a suspended or closed one is listed with
    its reason by the posture check, never read)."""
    return AwsAccount.objects.filter(governance_mode=GovernanceMode.CENTRALISED).order_by("account_id")


def root_audit_start(*, actor: User | None, queue: bool = True) -> RootAuditRun:
    """Record a run (``actor`` None: the command, run by someone with the server's shell) and, with
    ``queue``, hand it to a worker after commit. One run at a time: a second is refused."""
    if actor is not None and not policy.may_run_root_audit(actor):
        raise DomainError("Only an administrator may audit the root credentials of every account.")
    with transaction.atomic():
        # Serialise starts on the table: two clicks at once must not start two runs.
        running = RootAuditRun.objects.select_for_update().filter(status__in=_ACTIVE).first()
        if running is not None and running.updated_at < timezone.now() - timedelta(
            minutes=settings.PORTAL_INGEST_STALE_MINUTES
        ):
            # Every account saves the run, so ``updated_at`` is its heartbeat: a run this quiet lost its
            # worker (or its task message) and must not block audits for ever.
            _end(running, RootAuditRunStatus.FAILED, "No progress for too long: the worker was lost.")
            running = None
        if running is not None:
            raise DomainError(
                f"An audit is already {running.get_status_display().lower()}; wait for it to end."
            )
        run = RootAuditRun.objects.create(requested_by=actor, accounts_total=centralised_accounts().count())
        ledger.record(
            actor=actor,
            action="root_audit.started",
            target=run,
            data={"accounts": run.accounts_total, "reference": run.reference},
        )
        if queue:
            transaction.on_commit(partial(_hand_over, run.pk), robust=True)
    return run


def _hand_over(run_id: int) -> None:
    current_app.signature(RUN_TASK, args=(run_id,)).apply_async()


def root_audit_run(run_id: int, *, sleep: Callable[[float], None] = time.sleep) -> RootAuditRun | None:
    """Check every centralised account, one after another; None when the run was not waiting (a
    redelivered task finds it running or done and leaves it alone)."""
    with transaction.atomic():
        run = RootAuditRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != RootAuditRunStatus.QUEUED:
            return None
        run.status = RootAuditRunStatus.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at", "updated_at"])
    try:
        return _run(run, sleep)
    except Exception as exc:  # the run must end visibly, whatever went wrong
        logger.exception("root credentials audit %s failed", run.reference)
        return _end(run, RootAuditRunStatus.FAILED, f"Stopped by an unexpected {type(exc).__name__}.")


def _run(run: RootAuditRun, sleep: Callable[[float], None]) -> RootAuditRun:
    organization = aws.Organization()
    features = organization.features()
    if not features.ok or features.value is None:
        return _end(
            run, RootAuditRunStatus.FAILED, f"The organization's features could not be read: {features.error}"
        )
    missing = sorted(aws.CENTRAL_FEATURES - features.value)
    if missing:
        return _end(
            run,
            RootAuditRunStatus.FAILED,
            f"Centralised root access is not fully on ({', '.join(missing)} off): AssumeRoot cannot audit.",
        )
    accounts = list(centralised_accounts())
    run.accounts_total = len(accounts)
    interval = settings.PORTAL_ROOT_AUDIT_INTERVAL_MS / 1000
    for index, account in enumerate(accounts):
        if index and interval:
            sleep(interval)
        checked = posture_check_account(
            account=account,
            organization=organization,
            features=features,
            now=timezone.now(),
            reference=run.reference,
        )
        run.results.append(_line(checked))
        run.accounts_done += 1
        run.accounts_failed += 0 if run.results[-1]["ok"] else 1
        run.save(
            update_fields=["accounts_total", "accounts_done", "accounts_failed", "results", "updated_at"]
        )
    return _end(run, RootAuditRunStatus.DONE, "")


def _line(checked: AccountRun) -> dict[str, object]:
    return {
        "account_id": checked.account_id,
        "name": checked.name,
        # A suspended or closed account is skipped with its reason: not audited, yet not a failure.
        "ok": not checked.errors,
        "skipped": bool(checked.skipped),
        "error": "; ".join(checked.errors) or checked.skipped,
        "failing": list(checked.failures),
    }


def _end(run: RootAuditRun, status: str, error: str) -> RootAuditRun:
    with transaction.atomic():
        run.status = status
        run.error = error
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at", "accounts_total", "updated_at"])
        ledger.record(
            actor=None,
            action="root_audit.finished" if status == RootAuditRunStatus.DONE else "root_audit.failed",
            target=run,
            data={
                "reference": run.reference,
                "accounts": run.accounts_total,
                "checked": run.accounts_done,
                "not_checked": run.accounts_failed,
                "failing_checks": sum(len(line.get("failing", [])) for line in run.results),
                "error": error,
            },
        )
    return run
