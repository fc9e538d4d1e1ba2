#!/usr/bin/env python3
"""The same CloudTrail backlog ingested by one Celery worker process and by two (issue 13, item 3).

    .venv/bin/python scripts/testenv.py run -- .venv/bin/python bench/worker_benchmark.py \
        [--records N] [--files F] [--concurrency 1 2]

On the PostgreSQL database and Redis broker of ``DATABASE_URL`` / ``CELERY_BROKER_URL`` (``testenv.py
run`` gives private ones; the database is migrated here), it generates a synthetic organization trail
(``trail_generator``: 12 accounts x 4 regions, one folder each), configures a files source whose units
are those 48 account/region folders, as an organization trail's units are, and for each concurrency:
empties the evidence tables, starts ``celery worker --concurrency C``, queues ``ingest_source`` (which
fans out one ``ingest_unit`` task per unit, as beat does) and waits until every unit's run has ended.

It prints, per concurrency: wall seconds from queueing to the last run's end, records/s, and
records/s per worker process; and how much faster two processes were than one. A benchmark prints
figures; it is not a test. It exits 1 if a run failed or the root records stored differ from the trail's.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for folder in (ROOT, BENCH):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from trail_generator import generate  # noqa: E402  (after the path is set)


def _setup_django() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (run through scripts/testenv.py run)")
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        raise SystemExit("CELERY_BROKER_URL must name Redis (run through scripts/testenv.py run)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ["DJANGO_DEBUG"] = "true"  # no secret key or hosts needed; nothing is served
    os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="worker-bench-var-"))
    import logging

    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # DEBUG keeps every SQL statement in memory
    logging.disable(logging.WARNING)


def _empty_evidence() -> None:
    """Runs, cursors, root events and findings go, so each concurrency ingests the whole backlog."""
    from audits.models import Finding, IngestionCursor, IngestionRun, RootEvent

    for model in (Finding, RootEvent, IngestionRun, IngestionCursor):
        model.objects.all().delete()


def _purge_queue() -> None:
    from portal.celery import app

    app.control.purge()


def measure(source_id: int, units: int, concurrency: int) -> tuple[float, int, int, int]:
    """Seconds from queueing to the last run's end; records read; root records stored; failed runs."""
    from django.db.models import Sum

    from audits.choices import RunStatus
    from audits.models import IngestionRun, RootEvent
    from audits.tasks import ingest_source

    _empty_evidence()
    _purge_queue()
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "portal", "worker",
         "--concurrency", str(concurrency), "--pool", "prefork", "--loglevel", "ERROR",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=os.environ.copy(),
    )  # fmt: skip
    try:
        time.sleep(4)  # the worker's processes start and import Django before the clock does
        started = time.perf_counter()
        ingest_source.delay(source_id)
        finished = (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED)
        while IngestionRun.objects.filter(status__in=finished).count() < units:
            if worker.poll() is not None:
                raise SystemExit(f"the worker stopped (exit {worker.returncode})")
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    runs = IngestionRun.objects.all()
    records = runs.aggregate(total=Sum("records_read"))["total"] or 0
    failed = runs.filter(status=RunStatus.FAILED).count()
    return elapsed, records, RootEvent.objects.count(), failed


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--root-every", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)

    directory = (
        Path(tempfile.gettempdir()) / f"portal-bench-workers-{args.records}-{args.files}-{args.root_every}"
    )
    trail = generate(directory, records=args.records, files=args.files, root_every=args.root_every)
    folders = sorted(
        {str(Path(path).parents[3]) for path in trail.files}
    )  # .../<account>/CloudTrail/<region>
    _setup_django()
    from django.core.management import call_command
    from django.db import connection

    from audits.choices import SourceKind
    from audits.models import IngestionSource

    call_command("migrate", verbosity=0)
    source = IngestionSource.objects.create(
        name="worker benchmark", kind=SourceKind.FILES, config={"paths": folders}, enabled=True
    )
    print(
        f"machine: {platform.machine()} {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"database: {connection.vendor} {connection.pg_version}; broker: Redis"
    )
    print(
        f"trail: {trail.records:,} records ({trail.root_records} root) in {len(trail.files)} files, "
        f"{trail.bytes_compressed / 1e6:,.0f} MB gzip; {len(folders)} units (account/region folders)"
    )
    status = 0
    rates: dict[int, float] = {}
    for concurrency in args.concurrency:
        elapsed, records, stored, failed = measure(source.pk, len(folders), concurrency)
        rates[concurrency] = records / elapsed
        print(
            f"{concurrency} worker process(es): {elapsed:6.1f} s, {rates[concurrency]:>9,.0f} records/s, "
            f"{rates[concurrency] / concurrency:>9,.0f} records/s per process; {stored} root records, "
            f"{failed} failed runs"
        )
        if failed or stored != trail.root_records:
            status = 1
    if 1 in rates and 2 in rates:
        print(f"two processes ingest {rates[2] / rates[1]:.2f}x as fast as one")
    return status


if __name__ == "__main__":
    sys.exit(main())
