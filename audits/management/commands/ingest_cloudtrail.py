"""``manage.py ingest_cloudtrail PATH [PATH ...]``: ingest CloudTrail log files and folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.ingest import ingest_paths


class Command(BaseCommand):
    help = (
        "Ingest CloudTrail log files or folders (recursively, skipping hidden files and CloudTrail-Digest "
        'folders; delivery files {"Records": [...]}, plain or .gz, and JSON Lines), reconcile the root '
        "events with check-outs and print a summary. Exits 0 when every file was read, 1 when any was "
        "rejected (the others are still ingested)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="log file or folder")

    def handle(self, *args: Any, **options: Any) -> None:
        run = ingest_paths(paths=list(options["paths"]))
        out = self.stdout
        out.write(f"Ingestion run {run.uuid}: {run.get_status_display().lower()}")
        out.write(f"Files read:      {run.files_read}")
        out.write(f"Files rejected:  {run.files_rejected}")
        out.write(f"Records read:    {run.records_read}")
        out.write(f"Root records:    {run.root_records}")
        out.write(f"Findings raised: {run.findings_raised}")
        if run.errors:
            out.write("Problems:")
            for problem in run.errors:
                where = f"{problem.get('file')}: " if problem.get("file") else ""
                out.write(f"  {where}{problem.get('reason')}")
        if run.files_rejected:
            # CommandError prints to stderr and sets the exit status, which scripts and CI test.
            raise CommandError(
                f"{run.files_rejected} file(s) rejected; the other files were ingested", returncode=1
            )
