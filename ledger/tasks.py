"""Celery task of the ledger: the hourly walk of the chain (scheduled in ``portal.celery``)."""

from __future__ import annotations

import logging

from celery import shared_task

from ledger import chain

logger = logging.getLogger(__name__)


@shared_task(name="ledger.tasks.verify_ledger")
def verify_ledger() -> bool:
    """Hourly: walk the chain and log loudly if it is broken (monitoring alerts on the log line)."""
    result = chain.verify()
    if result.intact:
        logger.info("ledger intact: %d entries checked", result.entries_checked)
    else:
        assert result.first_break is not None
        logger.critical("LEDGER BROKEN at #%d: %s", result.first_break.sequence, result.first_break.reason)
    return result.intact
