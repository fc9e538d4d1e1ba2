"""``python manage.py sync_organization``: import the AWS organization now and print what changed.

Exit status 0 when the sync succeeded (with or without changes), 1 when it failed (the reason is
printed; nothing was changed).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audits.choices import SyncStatus, SyncTrigger
from audits.organization.service import organization_sync


class Command(BaseCommand):
    help = "Import the AWS organization's accounts, OU paths, tags and states into the inventory."

    def handle(self, *args: Any, **options: Any) -> None:
        run = organization_sync(trigger=SyncTrigger.COMMAND)
        if run.status != SyncStatus.SUCCEEDED:
            raise CommandError(f"Organization sync failed: {run.reason}")
        self.stdout.write(
            f"Organization {run.organization_id or '(unknown)'}: {run.accounts_seen} accounts, "
            f"{run.changes_made} changes."
        )
        for change in run.changes.select_related("account"):
            detail = " -> ".join(part for part in (change.before, change.after) if part)
            self.stdout.write(f"  {change.account.account_id} {change.get_kind_display()}: {detail}")
        self.stdout.write(
            "Centralised root access: root credentials management "
            f"{_on_off(run.root_credentials_management)}, root sessions {_on_off(run.root_sessions)}"
            + (f" ({run.features_reason})" if run.features_reason else "")
        )


def _on_off(value: bool | None) -> str:
    return "unknown" if value is None else "on" if value else "off"
