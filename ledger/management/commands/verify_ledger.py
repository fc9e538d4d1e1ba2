"""``manage.py verify_ledger``: check the audit ledger's keyed chain from the first entry to the head,
and against the signed checkpoints kept outside the database."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ledger import verification_runs
from ledger.choices import VerificationTrigger
from ledger.keys import public_keys_from


class Command(BaseCommand):
    help = (
        "Verify the audit ledger's hash chain (HMAC per entry) against the signed checkpoints in "
        "PORTAL_LEDGER_ANCHOR. Exits 0 when it is intact; otherwise names the first problem (a broken "
        "entry, a missing tail, an emptied table, a re-hashed chain, a bad checkpoint) and exits 1."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--public-key",
            action="append",
            default=[],
            metavar="KEYID:BASE64",
            help=(
                "check the checkpoints' signatures with this public key (as `ledger_public_key` prints "
                "it; repeatable) instead of PORTAL_LEDGER_SIGNING_KEY's: keys kept outside the portal "
                "catch checkpoints re-signed by someone who replaced the portal's signing key"
            ),
        )
        parser.add_argument(
            "--no-alert",
            action="store_true",
            help="only report; do not raise a critical finding and an alert for a broken ledger",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            verifying = public_keys_from(options["public_key"]) if options["public_key"] else None
        except ImproperlyConfigured as error:
            raise CommandError(str(error), returncode=2) from None
        # Stored like the hourly task's result, so the ledger page shows this run too.
        _, report = verification_runs.verification_run(
            trigger=VerificationTrigger.COMMAND, announce=not options["no_alert"], verifying=verifying
        )
        for note in report.notes:
            self.stdout.write(note)
        if report.first_break is not None:
            where = f"entry #{report.first_break.sequence}" if report.first_break.sequence else "the anchor"
            # CommandError prints to stderr and exits 1, which is what cron and CI alert on.
            raise CommandError(f"Ledger broken at {where}: {report.first_break.reason}", returncode=1)
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger intact: {report.entries_checked} entries, "
                f"{report.checkpoints_checked} checkpoint{'' if report.checkpoints_checked == 1 else 's'} "
                f"in {report.anchor}"
            )
        )
