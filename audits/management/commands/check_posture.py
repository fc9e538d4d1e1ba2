"""``manage.py check_posture [--account ID ...]``: check the root posture of the inventory's accounts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.choices import PostureStatus
from audits.posture.service import posture_check_all
from breakglass.models import AwsAccount


class Command(BaseCommand):
    help = (
        "Check every inventory account's root user (access keys, MFA and whether it is hardware, "
        "password in centralised accounts, signing certificates, the MFA devices the inventory records) "
        "and its billing, operations and security contacts, and whether the organization has centralised "
        "root access on; raise or resolve the posture findings and print a summary. Exits 0 when every "
        "check could be made (failing checks are findings, not errors), 1 when AWS did not answer some."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--account",
            action="append",
            default=None,
            metavar="ID",
            help="only this 12-digit account (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        wanted: list[str] | None = options["account"]
        if wanted:
            known = set(AwsAccount.objects.filter(account_id__in=wanted).values_list("account_id", flat=True))
            unknown = sorted(set(wanted) - known)
            if unknown:
                raise CommandError(f"not in the inventory: {', '.join(unknown)}")
        run = posture_check_all(account_ids=wanted)
        out = self.stdout
        if run.organization is not None:
            out.write(f"Organization: {run.organization.status}: {run.organization.reason}")
        for account in run.accounts:
            counts = ", ".join(
                f"{account.statuses[status]} {status.label.lower()}"
                for status in PostureStatus
                if account.statuses[status]
            )
            changes = ", ".join(f"{count} {what}" for what, count in sorted(account.changes.items()))
            out.write(
                f"{account.account_id} {account.name}: {counts}"
                + (f"; findings {changes}" if changes else "")
            )
            for check in account.failures:
                out.write(f"  fail  {check}")
            for problem in account.errors:
                out.write(f"  error {problem}")
            if account.skipped:
                out.write(f"  skipped: {account.skipped}")
        out.write(
            f"Accounts checked: {len(run.accounts)}; failing checks: {run.failing}; not checked: {run.errors}"
        )
        if run.errors:
            raise CommandError(f"{run.errors} account(s) or organization check(s) could not be fully checked")
