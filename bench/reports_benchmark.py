#!/usr/bin/env python3
"""Time, peak memory and queries of the sessions and activity reports over a large organization
(issue 9, "Done when": 10,000 sessions and 1,000,000 root events, peak memory under 300 MB).

    .venv/bin/python scripts/testenv.py run -- .venv/bin/python bench/reports_benchmark.py \
        [--sessions N] [--events M] [--pdf-sessions P] [--bundle-sessions B] [--skip-generate]
        [--only NAME ...]

On the database of ``DATABASE_URL`` (PostgreSQL: ``testenv.py run`` gives a private one, migrated here)
it generates through ``org_generator``, in bulk (``bulk_create`` and PostgreSQL ``COPY``, not the
services, so it takes minutes rather than hours), an organization whose relations are those the services
make: accounts with approvers, custodians and MFA devices; users with grants; N access requests in every
status, with approvals, transitions, reveals, devices handed over and returned; M root events, most
matched to a checked-out session (some out of scope), the rest unmatched; findings linked to sessions
and events. It prints how long that took.

Then, each in a fresh process (so the peak RSS is that export's own), it exports through
``audits.reports.export_start`` (the code the pages, the export jobs and ``manage.py export_report``
use) to a file: the sessions report and the activity report as CSV and as JSON over everything, the
sessions report as PDF over a period holding about P sessions (laid out in parts of
``audits.reports.pdf.PDF_PART_ROWS`` sessions), and an evidence bundle (``write_bundle``, what the
export job runs) over every session and root event, or over a period of about B sessions.
Per export it prints rows, bytes, wall seconds (and the CPU seconds of that process), rows/s, the
child's peak RSS (``VmHWM``, see ``_maxrss_mb``) and how many SQL queries it ran (counted by a
``connection.execute_wrapper``, which keeps nothing); for the bundle, its six slowest members.

A benchmark prints figures; it is not a test. It exits 1 when an export's peak RSS is over the
300 MB target.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for folder in (ROOT, BENCH):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

TARGET_PEAK_MB = 300
# Share of root events matched to a checked-out session; the rest are unmatched (unapproved use).
MATCHED_SHARE = 0.8
# Unmatched root events are grouped into one finding per this many.
EVENTS_PER_UNMATCHED_FINDING = 100
EXPORTS = ("sessions-csv", "sessions-json", "activity-csv", "activity-json", "sessions-pdf", "evidence-zip")


# --- set-up ---------------------------------------------------------------------------------------


def _setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (run through scripts/testenv.py run)")
    os.environ["DJANGO_DEBUG"] = "true"  # no secret key or hosts needed; DEBUG itself is turned off below
    os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="reports-bench-var-"))
    if not os.environ.get("PORTAL_ENCRYPTION_KEYS"):
        os.environ["PORTAL_ENCRYPTION_KEYS"] = "bench:" + base64.b64encode(os.urandom(32)).decode()
    if not os.environ.get("PORTAL_EVIDENCE_SIGNING_KEY"):
        os.environ["PORTAL_EVIDENCE_SIGNING_KEY"] = "bench:" + base64.b64encode(os.urandom(32)).decode()
    import logging

    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # DEBUG keeps every SQL statement in memory
    logging.disable(logging.WARNING)


def _maxrss_mb() -> float:
    """This process's peak resident memory. On Linux, ``VmHWM`` of ``/proc/self/status``: the
    ``ru_maxrss`` of a child started by fork and exec also counts the parent's memory copied at the
    fork (the kernel carries the high-water mark across exec), so after generating it would report
    the generator's peak, not the export's."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    # macOS reports bytes, other systems kilobytes.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


# --- generation -----------------------------------------------------------------------------------


def generate(*, sessions: int, events: int) -> dict[str, Any]:
    """The organization, through the benchmarks' one generator (``org_generator``): 200 accounts,
    300 people, ``sessions`` access requests and ``events`` root events, the unmatched ones grouped
    into one unapproved-use finding per 100."""
    from org_generator import Shape
    from org_generator import generate as generate_organization

    unmatched = int(events * (1 - MATCHED_SHARE))
    shape = Shape(
        sessions=sessions, events=events, unmatched_findings=max(1, unmatched // EVENTS_PER_UNMATCHED_FINDING)
    )
    made = generate_organization(shape)
    made.pop("by_role", None)
    return made


# --- measuring ------------------------------------------------------------------------------------


def measure(name: str, fmt: str, folder: str, since: str | None, until: str | None) -> dict[str, Any]:
    """In a fresh process: one export to a file, with its figures."""
    _setup_django()
    from django.db import connection

    from audits.reports import ReportFilter, export_start

    queries = 0
    members: list[tuple[str, float]] = []

    def counted(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    filters = ReportFilter(
        since=datetime.fromisoformat(since) if since else None,
        until=datetime.fromisoformat(until) if until else None,
    )
    path = Path(folder) / f"{name}.{fmt}"
    before = _maxrss_mb()
    cpu = time.process_time()
    wall = time.perf_counter()
    with connection.execute_wrapper(counted):
        if name == "evidence":
            # The bundle the Reports page's job makes: every report (the sessions one also as PDF, laid
            # out in parts), the ledger slice, the controls and the signed manifest. "rows": sessions.
            from audits.evidence import write_bundle
            from audits.reports import REPORTS

            rows = REPORTS["sessions"].count(user=None, filters=filters)
            written: list[float] = []  # when each member was done, in the zip's order
            with path.open("w+b") as out:
                write_bundle(
                    out, user=None, filters=filters, on_member=lambda _: written.append(time.perf_counter())
                )
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
            starts = [wall, *written[:-1]]
            members = sorted(
                ((name, end - start) for name, start, end in zip(names, starts, written, strict=False)),
                key=lambda item: -item[1],
            )
        else:
            export = export_start(user=None, name=name, fmt=fmt, filters=filters)
            rows = export.count
            if fmt == "pdf":
                with path.open("wb") as binary:
                    export.write_pdf(binary)
            else:
                with path.open("w", encoding="utf-8") as out:
                    for piece in export.text():
                        out.write(piece)
    wall = time.perf_counter() - wall
    # CPU seconds of this process: on a shared machine the wall time is mostly waiting for a core.
    cpu = time.process_time() - cpu
    size = path.stat().st_size
    path.unlink()
    return {
        "rows": rows,
        "bytes": size,
        "wall": wall,
        "cpu": cpu,
        "rss_before_mb": before,
        "rss_peak_mb": _maxrss_mb(),
        "queries": queries,
        "members": members,
    }


def _in_child(function: Callable[..., Any], *args: Any) -> Any:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def _pdf_period(sessions: int) -> tuple[str, str]:
    """The window-start period of the newest ``sessions`` sessions."""
    from breakglass.models import AccessRequest

    starts = list(AccessRequest.objects.order_by("-starts_at").values_list("starts_at", flat=True)[:sessions])
    return starts[-1].isoformat(), starts[0].isoformat()


def _whole_period() -> tuple[str, str]:
    """From the first root event or session to the last: a bundle needs both ends."""
    from django.db.models import Max, Min

    from audits.models import RootEvent
    from breakglass.models import AccessRequest

    sessions = AccessRequest.objects.aggregate(first=Min("starts_at"), last=Max("starts_at"))
    events = RootEvent.objects.aggregate(first=Min("event_time"), last=Max("event_time"))
    first = min(moment for moment in (sessions["first"], events["first"]) if moment is not None)
    last = max(moment for moment in (sessions["last"], events["last"]) if moment is not None)
    return first.isoformat(), last.isoformat()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000, help="access requests to generate")
    parser.add_argument("--events", type=int, default=1_000_000, help="root events to generate")
    parser.add_argument("--pdf-sessions", type=int, default=500, help="sessions in the PDF's period")
    parser.add_argument(
        "--bundle-sessions",
        type=int,
        default=0,
        help="sessions in the evidence bundle's period (0: every session and root event)",
    )
    parser.add_argument("--skip-generate", action="store_true", help="reuse what the database holds")
    parser.add_argument(
        "--only", nargs="+", choices=EXPORTS, default=list(EXPORTS), help="exports to measure"
    )
    args = parser.parse_args(argv)

    _setup_django()
    from django.core.management import call_command

    from audits.models import RootEvent
    from breakglass.models import AccessRequest

    call_command("migrate", verbosity=0, interactive=False)
    print(f"machine: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs")
    if not args.skip_generate:
        if AccessRequest.objects.exists():
            raise SystemExit("the database already holds sessions: use --skip-generate or a fresh database")
        began = time.perf_counter()
        made = generate(sessions=args.sessions, events=args.events)
        print(
            f"generated in {time.perf_counter() - began:.0f} s: "
            + ", ".join(f"{v:,} {k}" for k, v in made.items())
        )
    held = (AccessRequest.objects.count(), RootEvent.objects.count())
    print(f"database holds {held[0]:,} sessions and {held[1]:,} root events")
    since, until = _pdf_period(args.pdf_sessions)
    bundle_period = _pdf_period(args.bundle_sessions) if args.bundle_sessions else _whole_period()

    over = False
    with tempfile.TemporaryDirectory(prefix="reports-bench-") as folder:
        for item in args.only:
            name, fmt = item.split("-")
            period = (since, until) if fmt == "pdf" else bundle_period if fmt == "zip" else (None, None)
            result = _in_child(measure, name, fmt, folder, *period)
            rows, wall, peak = result["rows"] or 0, result["wall"], result["rss_peak_mb"]
            over |= result["rss_peak_mb"] >= TARGET_PEAK_MB
            print(
                f"{item:14} {rows:>10,} rows {result['bytes'] / 1e6:>9.1f} MB {wall:>8.1f} s "
                f"(CPU {result['cpu']:.1f} s) {rows / max(wall, 1e-9):>9,.0f} rows/s  "
                f"peak RSS {peak:>4.0f} MB "
                f"(+{peak - result['rss_before_mb']:.0f} after start-up)  "
                f"{result['queries']:,} queries"
            )
            if result["members"]:
                print("  slowest members: " + ", ".join(f"{n} {t:.1f} s" for n, t in result["members"][:6]))
    print(f"target: peak RSS under {TARGET_PEAK_MB} MB per export: {'OVER' if over else 'met'}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
