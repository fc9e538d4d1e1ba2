"""``manage.py checkpoint_ledger``: sign where the ledger's chain stands and store it in the anchor."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ledger import checkpoints
from ledger.anchor import configured_anchor


class Command(BaseCommand):
    help = (
        "Write a signed checkpoint of the audit ledger (sequence, head hash, entry count, time, key id; "
        "Ed25519) to PORTAL_LEDGER_ANCHOR, after checking the entries appended since the last one. "
        "Beat does this every ten minutes."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        anchor = configured_anchor()
        try:
            written = checkpoints.write(anchor, latest=checkpoints.latest(anchor))
        except checkpoints.LedgerBroken as broken:
            raise CommandError(f"{broken} (no checkpoint written)", returncode=1) from None
        if written is None:
            self.stdout.write(f"Nothing appended since the last checkpoint in {anchor.location}")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Checkpoint #{written.sequence} written to {anchor.location} ({written.name})"
            )
        )
