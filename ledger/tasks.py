"""Celery tasks of the ledger (scheduled in ``portal.celery``): the hourly verification and the
checkpoint written every ten minutes."""

from __future__ import annotations

import logging

from celery import shared_task

from ledger import checkpoints, verification_runs
from ledger.anchor import configured_anchor
from ledger.choices import VerificationTrigger
from ledger.signals import chain_broken

logger = logging.getLogger(__name__)


@shared_task(name=verification_runs.VERIFY_TASK)
def verify_ledger(verification_id: int | None = None) -> bool:
    """Hourly (and when asked for on the ledger page, with the waiting row's id): verify the chain
    against the checkpoints and store the result; a break is logged critically and sent as
    ``chain_broken`` (a critical finding and an alert)."""
    _, report = verification_runs.verification_run(
        trigger=VerificationTrigger.SCHEDULE, verification_id=verification_id
    )
    if report.first_break is None:
        logger.info(
            "ledger intact: %d entries, %d checkpoints checked",
            report.entries_checked,
            report.checkpoints_checked,
        )
    else:
        logger.critical("LEDGER BROKEN at #%d: %s", report.first_break.sequence, report.first_break.reason)
    return report.intact


@shared_task(name="ledger.tasks.checkpoint_ledger")
def checkpoint_ledger() -> int | None:
    """Every ten minutes: sign where the chain stands and store it in the anchor; the sequence
    checkpointed, or None when nothing was appended since the last checkpoint."""
    anchor = configured_anchor()
    latest = checkpoints.latest(anchor)
    try:
        written = checkpoints.write(anchor, latest=latest)
    except checkpoints.LedgerBroken as broken:
        logger.critical(
            "LEDGER BROKEN at #%d: %s (no checkpoint written)", broken.found.sequence, broken.found.reason
        )
        chain_broken.send(
            sender=checkpoints.Checkpoint, sequence=broken.found.sequence, reason=broken.found.reason
        )
        return None
    if written is not None:
        logger.info("ledger checkpoint #%d written to %s", written.sequence, anchor.location)
        return written.sequence
    return None
