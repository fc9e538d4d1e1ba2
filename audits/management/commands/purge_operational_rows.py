"""``manage.py purge_operational_rows [--dry-run]``: purge old notifications and ingestion runs now.

The same services beat runs daily (``breakglass.retention``, ``audits.retention``); evidence is
never touched. It lives in ``audits`` because that app may read both (``breakglass`` may not import
``audits``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from audits.retention import runs_purge
from breakglass.retention import notifications_purge


class Command(BaseCommand):
    help = (
        "Delete delivered or failed notifications older than PORTAL_RETENTION_NOTIFICATION_DAYS and "
        "finished ingestion runs older than PORTAL_RETENTION_RUN_DAYS (except runs a ledger entry names), "
        "1,000 rows per transaction, each batch a retention.purged ledger entry. Evidence (ledger, root "
        "events, requests, findings, reports) is never purged. --dry-run prints what would go."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count and print, delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        for purge in (notifications_purge, runs_purge):
            outcome = purge(dry_run=dry_run)
            line = outcome.describe()
            if not dry_run and outcome.rows:
                line += f" in {outcome.batches} batch(es)"
            self.stdout.write(line)
