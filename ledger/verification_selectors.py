"""What the ledger page says about the chain: the newest finished verification, one still
running, and whether the newest result is stale (beat has not verified for two intervals)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.timesince import timesince

from ledger.models import ChainVerification, LedgerEntry
from ledger.verification_runs import STALE_AFTER, running_verification


@dataclass(frozen=True)
class VerificationPanel:
    """``last``: the newest finished verification (None: never verified); ``running``: one asked
    for and not finished; ``stale``: ``last`` is older than twice the beat interval (or missing
    while there are entries); ``broken_entry``: the entry ``last`` found broken, when it exists."""

    last: ChainVerification | None
    running: ChainVerification | None
    stale: bool
    broken_entry: LedgerEntry | None
    stale_after_hours: int
    #: *just now* or *3 hours ago*: when ``last`` finished.
    last_ago: str = ""
    #: ``last.entries_checked`` with thousands separators (*123,456*).
    entries_checked: str = ""


def ago(moment: datetime, now: datetime) -> str:
    """*just now* under a minute (``timesince`` would say *0 minutes*), else *3 hours ago*."""
    if now - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, now)} ago"


def verification_panel(*, now: datetime | None = None) -> VerificationPanel:
    """At most three small queries, on indexed columns (never a walk of the chain)."""
    now = now or timezone.now()
    last = (
        ChainVerification.objects.filter(finished_at__isnull=False)
        .select_related("requested_by")
        .order_by("-finished_at")
        .first()
    )
    broken_entry = None
    if last is not None and last.broken_sequence:
        broken_entry = LedgerEntry.objects.filter(sequence=last.broken_sequence).first()
    stale = last is None or last.finished_at is None or last.finished_at < now - STALE_AFTER
    return VerificationPanel(
        last=last,
        running=running_verification(now=now),
        stale=stale,
        broken_entry=broken_entry,
        stale_after_hours=int(STALE_AFTER.total_seconds() // 3600),
        last_ago=ago(last.finished_at, now) if last is not None and last.finished_at is not None else "",
        entries_checked=f"{last.entries_checked:,}" if last is not None else "",
    )
