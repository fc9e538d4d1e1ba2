"""``manage.py verify_ledger``: check the audit ledger's hash chain from the first entry to the head."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ledger import chain


class Command(BaseCommand):
    help = (
        "Verify the audit ledger's hash chain. Exits 0 when it is intact; otherwise names the first "
        "broken entry and exits 1."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = chain.verify()
        if result.first_break is not None:
            # CommandError prints to stderr and exits 1, which is what cron and CI alert on.
            raise CommandError(
                f"Ledger broken at entry #{result.first_break.sequence}: {result.first_break.reason}",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"Ledger intact: {result.entries_checked} entries"))
