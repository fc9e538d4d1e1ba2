"""``manage.py make_evidence --since DATE --until DATE [--account ID] [--as USER] --output FILE.zip``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.evidence import make_bundle


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Write a signed evidence bundle for a period: the sessions, activity, findings, access and "
        "ledger reports (CSV, JSON, the sessions PDF), the ledger slice with its chain hashes, the "
        "controls they evidence, a manifest of SHA-256 digests and its Ed25519 signature "
        "(PORTAL_EVIDENCE_SIGNING_KEY). Dates are whole days in UTC, --until inclusive. As the system "
        "unless --as USER. The bundle is a ledger entry (evidence.bundle_made)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=_day, required=True, help="first day (YYYY-MM-DD, UTC)")
        parser.add_argument("--until", type=_day, required=True, help="last day, inclusive (YYYY-MM-DD, UTC)")
        parser.add_argument("--account", default="", help="a 12-digit AWS account id")
        parser.add_argument(
            "--as", dest="as_user", default="", help="make it as this username (their rights)"
        )
        parser.add_argument("--output", type=Path, required=True, help="the zip file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        since: date = options["since"]
        until: date = options["until"]
        if since > until:
            raise CommandError("--since is after --until")
        output: Path = options["output"]
        if not output.resolve().parent.is_dir():
            raise CommandError(f"{output.resolve().parent} is not a folder")
        user = None
        if options["as_user"]:
            try:
                user = get_user_model().objects.get_by_natural_key(options["as_user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"no user {options['as_user']!r}") from None
        made = make_bundle(
            user=user,
            since=datetime.combine(since, time.min, tzinfo=UTC),
            until=datetime.combine(until, time.max, tzinfo=UTC),
            account=options["account"],
            output=output,
        )
        self.stdout.write(
            f"Evidence bundle written to {output}: {made.files} files, manifest SHA-256 "
            f"{made.manifest_sha256} (ledger entry #{made.ledger_sequence})"
        )
