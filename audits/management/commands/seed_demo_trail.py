"""``manage.py seed_demo_trail``: sample root activity for the demo accounts (``make run``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audits.demo_trail import seed_demo_trail


class Command(BaseCommand):
    help = (
        "Ingest sample CloudTrail root records for the demo accounts (sign-ins, an access key, a "
        "password change), so the findings and runs pages of the demo are not empty. Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = seed_demo_trail()
        if run is None:
            self.stdout.write("Sample CloudTrail for the demo accounts is already loaded.")
            return
        self.stdout.write(
            f"Loaded sample CloudTrail: {run.root_records} root records, {run.findings_raised} findings "
            "(see Findings and Runs)."
        )
