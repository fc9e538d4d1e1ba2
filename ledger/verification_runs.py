"""The rows of :class:`ledger.models.ChainVerification`: every verification of the chain, whoever
started it, is stored with what it found, so the ledger page can say when the chain was last found
intact (or where it broke) without running the check itself.

The hourly task and ``manage.py verify_ledger`` call :func:`verification_run` directly; the ledger
page calls :func:`verification_request`, which stores a waiting row and its ledger entry and hands
the row to a worker after commit (the walk reads every entry: never in a web request).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from celery import current_app
from django.db import transaction
from django.utils import timezone

from ledger import services as ledger
from ledger import verification
from ledger.choices import VerificationTrigger
from ledger.models import ChainVerification, LedgerHead

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from django.contrib.auth.models import User

#: How often beat verifies the chain (``portal.celery``'s ``verify-ledger-hourly``; a test keeps the
#: two equal). A result older than twice this says beat has stopped verifying.
VERIFY_INTERVAL_SECONDS = 3600
STALE_AFTER = timedelta(seconds=2 * VERIFY_INTERVAL_SECONDS)
#: A waiting or running row older than this is taken for a dead worker; another may be started.
RUNNING_GIVE_UP = timedelta(minutes=30)

VERIFICATION_REQUESTED = "ledger.verification_requested"
VERIFY_TASK = "ledger.tasks.verify_ledger"


def verification_request(*, requested_by: User) -> ChainVerification:
    """Store a waiting verification asked for on the ledger page and hand it to a worker.

    One at a time: while one started in the last half hour is unfinished, that one is returned
    and nothing new is queued (a second click must not start a second walk of the whole chain).
    """
    with transaction.atomic():
        # The ledger's head: the entry below locks it anyway, and holding it first makes the check
        # and the insert one step, so two presses at the same moment queue one walk.
        LedgerHead.objects.select_for_update().get_or_create(id=1)
        waiting = running_verification()
        if waiting is not None:
            return waiting
        row = ChainVerification.objects.create(trigger=VerificationTrigger.PAGE, requested_by=requested_by)
        ledger.record(actor=requested_by, action=VERIFICATION_REQUESTED, target=row, data={})
        row_id = row.pk
        # By name: the task module imports this one.
        transaction.on_commit(lambda: current_app.signature(VERIFY_TASK, args=(row_id,)).apply_async())
    return row


def running_verification(*, now: datetime | None = None) -> ChainVerification | None:
    """The newest unfinished verification started recently, if any."""
    since = (now or timezone.now()) - RUNNING_GIVE_UP
    return (
        ChainVerification.objects.filter(finished_at__isnull=True, created_at__gte=since)
        .order_by("-created_at")
        .first()
    )


def verification_run(
    *,
    trigger: VerificationTrigger,
    verification_id: int | None = None,
    announce: bool = True,
    verifying: Mapping[str, Ed25519PublicKey] | None = None,
) -> tuple[ChainVerification, verification.LedgerReport]:
    """Verify the chain now and store what was found: in the waiting row ``verification_id`` names
    (asked for on the page), or in a new row of ``trigger``."""
    if verification_id is not None:
        row = ChainVerification.objects.get(pk=verification_id)
    else:
        row = ChainVerification(trigger=trigger)
    row.started_at = timezone.now()
    row.save()
    report = verification.verify_ledger(announce=announce, verifying=verifying)
    row.finished_at = timezone.now()
    row.entries_checked = report.entries_checked
    row.checkpoints_checked = report.checkpoints_checked
    row.anchor = report.anchor[:500]
    row.intact = report.intact
    row.broken_sequence = report.first_break.sequence if report.first_break is not None else None
    row.reason = report.first_break.reason if report.first_break is not None else ""
    row.notes = list(report.notes)
    row.save()
    return row, report
