"""``manage.py check_posture [--account ID ...] [--assume-root-audit]``: check the root posture of the
inventory's accounts, or audit every centralised account's root credentials through AssumeRoot."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.choices import PostureStatus
from audits.posture.root_audit import root_audit_run, root_audit_start
from audits.posture.service import posture_check_all
from breakglass.models import AwsAccount
from portal.errors import DomainError


class Command(BaseCommand):
    help = (
        "Check every inventory account's root user (access keys, MFA and whether it is hardware, "
        "password in centralised accounts, signing certificates, the MFA devices the inventory records) "
        "and its billing, operations and security contacts, and whether the organization has centralised "
        "root access on; raise or resolve the posture findings and print a summary. Exits 0 when every "
        "check could be made (failing checks are findings, not errors), 1 when AWS did not answer some. "
        "--assume-root-audit: the AssumeRoot credentials audit of every centralised account instead, as the "
        "Root posture page's button starts it (recorded as a run in the ledger, rate-limited)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--account",
            action="append",
            default=None,
            metavar="ID",
            help="only this 12-digit account (repeatable)",
        )
        parser.add_argument(
            "--assume-root-audit",
            action="store_true",
            help="audit the root credentials of every centralised account through AssumeRoot, here and now",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        wanted: list[str] | None = options["account"]
        if options["assume_root_audit"]:
            if wanted:
                raise CommandError(
                    "--assume-root-audit covers every centralised account; leave out --account"
                )
            self._audit()
            return
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

    def _audit(self) -> None:
        try:
            run = root_audit_start(actor=None, queue=False)
        except DomainError as error:
            raise CommandError(str(error)) from None
        finished = root_audit_run(run.pk)
        if finished is None:  # a worker claimed it first
            raise CommandError(f"audit {run.reference} was started elsewhere")
        for line in finished.results:
            if not line["ok"] or line.get("skipped"):
                state = "not checked"
            else:
                state = f"failing {', '.join(line['failing'])}" if line["failing"] else "ok"
            self.stdout.write(f"{line['account_id']} {line['name']}: {state}")
            if line["error"]:
                self.stdout.write(f"  {line['error']}")
        self.stdout.write(
            f"Audit {finished.reference}: {finished.get_status_display().lower()}; "
            f"{finished.accounts_done} of {finished.accounts_total} centralised account(s); "
            f"not checked: {finished.accounts_failed}"
        )
        if finished.error:
            raise CommandError(finished.error)
        if finished.accounts_failed:
            raise CommandError(f"{finished.accounts_failed} account(s) could not be audited")
