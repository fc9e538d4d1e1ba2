"""``manage.py export_report sessions|activity|findings|access|reviews|ledger --format csv|json|pdf
[--since DATE] [--until DATE] [--account ID] [--campaign UUID] [--as USER] [--output FILE]``."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.reports import FORMATS, REPORTS, Export, ReportFilter, UnknownReportError, export_start


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Export a report for auditors, oldest first: 'sessions' (break-glass sessions with approvals, "
        "hand-over, reveals, matched root events, findings, rotation and review), 'activity' (every root "
        "event, matched or not), 'findings' (with triage history), 'access' (grants, approvers, custodians, "
        "MFA devices), 'reviews' (access-review campaigns: items, reviewers, decisions, what is outstanding; "
        "--campaign UUID for one) or 'ledger' (the audit ledger). As the system (every record) unless "
        "--as USER. Writes to standard output (CSV, JSON) or --output FILE (any format, PDF needs it); "
        "the export is recorded in the ledger before it is written. Dates are whole days in UTC, --until "
        "inclusive."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("report", choices=tuple(REPORTS))
        parser.add_argument("--format", choices=FORMATS, default="json", dest="fmt")
        parser.add_argument("--since", type=_day, help="first day (YYYY-MM-DD, UTC)")
        parser.add_argument("--until", type=_day, help="last day, inclusive (YYYY-MM-DD, UTC)")
        parser.add_argument("--account", default="", help="a 12-digit AWS account id")
        parser.add_argument("--campaign", type=uuid.UUID, help="reviews: one access-review campaign's id")
        parser.add_argument("--as", dest="as_user", default="", help="export as this username (their rights)")
        parser.add_argument("--output", type=Path, help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        fmt: str = options["fmt"]
        output: Path | None = options["output"]
        if output is None and fmt == "pdf":
            raise CommandError("a PDF needs --output FILE")
        since: date | None = options["since"]
        until: date | None = options["until"]
        if since and until and since > until:
            raise CommandError("--since is after --until")
        filters = ReportFilter(
            since=datetime.combine(since, time.min, tzinfo=UTC) if since else None,
            until=datetime.combine(until, time.max, tzinfo=UTC) if until else None,
            account_id=options["account"],
            campaign=str(options["campaign"]) if options["campaign"] else "",
        )
        user = self._user(options["as_user"])
        if output is not None:
            directory = output.resolve().parent
            if not directory.is_dir():
                raise CommandError(f"{directory} is not a folder")
        try:
            export = export_start(user=user, name=options["report"], fmt=fmt, filters=filters)
        except UnknownReportError as error:
            raise CommandError(str(error)) from None
        if output is None:
            for piece in export.text():
                self.stdout.write(piece, ending="")
            return
        self._to_file(output, export)
        noun = "finding" if export.report.name == "findings" else "row"
        counted = (
            f"{export.count} {noun}(s)" if export.count is not None else f"the {export.report.name} report"
        )
        self.stderr.write(f"{counted} written to {output}")

    @staticmethod
    def _user(username: str) -> Any:
        if not username:
            return None  # the system
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None

    @staticmethod
    def _to_file(output: Path, export: Export) -> None:
        # Written beside the target and renamed: a reader never sees half a report.
        handle, temporary = tempfile.mkstemp(
            dir=output.resolve().parent, prefix=f".{output.name}.", suffix=".tmp"
        )
        try:
            if export.fmt == "pdf":
                with os.fdopen(handle, "wb") as binary:
                    export.write_pdf(binary)
            else:
                with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                    for piece in export.text():
                        stream.write(piece)
            os.replace(temporary, output)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
