"""``manage.py export_report findings --format json|csv [--output FILE]``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from audits.reports import FORMATS, export_findings

REPORTS = ("findings",)


class _Verbatim:
    """The command's stdout without the line ending OutputWrapper adds to every write."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str, /) -> None:
        self.wrapper.write(text, ending="")


class Command(BaseCommand):
    help = (
        "Export a report for auditors, oldest first, as the system (all records). 'findings': every "
        "finding with its kind, severity, status, account, CloudTrail event ids, session, first and last "
        "seen and summary. Writes to standard output or --output FILE; the export is recorded in the ledger."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("report", choices=REPORTS)
        parser.add_argument("--format", choices=FORMATS, default="json", dest="fmt")
        parser.add_argument("--output", type=Path, help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        fmt: str = options["fmt"]
        output: Path | None = options["output"]
        if output is None:
            export_findings(user=None, fmt=fmt, out=_Verbatim(self.stdout))
        else:
            count = self._to_file(output, fmt)
            self.stderr.write(f"{count} finding(s) written to {output}")

    def _to_file(self, output: Path, fmt: str) -> int:
        directory = output.resolve().parent
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder")
        # Written beside the target and renamed: a reader never sees half a report.
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{output.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                count = export_findings(user=None, fmt=fmt, out=stream)
            os.replace(temporary, output)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return count
