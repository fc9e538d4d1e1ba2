"""The whole check of the ledger: the keyed chain in the database against the signed checkpoints.

``manage.py verify_ledger`` and the hourly task call :func:`verify_ledger`; the first problem found
is named, and with ``announce`` sent as :data:`ledger.signals.chain_broken` so it becomes a critical
finding and an alert (``audits.ledger_alerts``), not only a log line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.utils import timezone

from ledger import chain, checkpoints
from ledger.anchor import Anchor, AnchorError, configured_anchor
from ledger.models import LedgerEntry
from ledger.signals import chain_broken


@dataclass(frozen=True)
class LedgerReport:
    """What verification found: entries and checkpoints checked, the first problem, remarks."""

    entries_checked: int
    checkpoints_checked: int
    anchor: str
    first_break: chain.LedgerBreak | None
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.first_break is None


def _missing_checkpoints() -> chain.LedgerBreak | None:
    """With no checkpoint at all: a problem once entries are older than the grace allows."""
    oldest = LedgerEntry.objects.order_by("sequence").only("sequence", "created_at").first()
    grace = timedelta(seconds=int(getattr(settings, "PORTAL_LEDGER_CHECKPOINT_GRACE_SECONDS", 3600)))
    if oldest is None or oldest.created_at > timezone.now() - grace:
        return None
    return chain.LedgerBreak(
        0,
        f"no checkpoint found although entries since {oldest.created_at:%Y-%m-%d %H:%M} UTC should be "
        "covered: checkpoints were never written (is beat running? run `manage.py checkpoint_ledger`) "
        "or they were removed from the anchor, so a cut tail or a re-hashed chain cannot be ruled out",
    )


def verify_ledger(
    *,
    anchor: Anchor | None = None,
    announce: bool = False,
    verifying: Mapping[str, Ed25519PublicKey] | None = None,
) -> LedgerReport:
    """Verify the chain and the checkpoints; with ``announce``, send ``chain_broken`` on a problem.

    ``verifying``: the public keys to check the checkpoints with (by default those of
    ``PORTAL_LEDGER_SIGNING_KEY``); an auditor passes the ones kept outside the portal.
    """
    report = _verify(anchor or configured_anchor(), verifying)
    if announce and report.first_break is not None:
        chain_broken.send(
            sender=LedgerReport, sequence=report.first_break.sequence, reason=report.first_break.reason
        )
    return report


def _verify(anchor: Anchor, verifying: Mapping[str, Ed25519PublicKey] | None) -> LedgerReport:
    try:
        good, problems = checkpoints.read(anchor, verifying)
    except (AnchorError, OSError, BotoCoreError, ClientError) as error:
        unreadable = chain.LedgerBreak(0, f"the checkpoints in {anchor.location} cannot be read: {error}")
        return LedgerReport(0, 0, anchor.location, unreadable)
    if problems:
        first = problems[0]
        untrusted = chain.LedgerBreak(
            0, f"checkpoint {first.name} in {anchor.location} is not trustworthy: {first.reason}"
        )
        return LedgerReport(0, len(good), anchor.location, untrusted)
    result = chain.verify(pins=checkpoints.pins(good))
    notes: list[str] = []
    found = result.first_break
    if found is None and not good:
        found = _missing_checkpoints()
        if found is None and result.entries_checked:
            notes.append(f"no checkpoint in {anchor.location} yet: the newest entries are not yet anchored")
    elif found is None:
        latest = max(good, key=lambda checkpoint: (checkpoint.sequence, checkpoint.created_at))
        notes.append(f"latest checkpoint: #{latest.sequence} at {latest.created_at}")
    return LedgerReport(result.entries_checked, len(good), anchor.location, found, notes)
