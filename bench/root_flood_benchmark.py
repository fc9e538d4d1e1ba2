#!/usr/bin/env python3
"""Peak memory of ingesting one file of millions of root records (issue 8, item 5).

    .venv/bin/python bench/root_flood_benchmark.py [--records N] [--accounts A] [--dir DIR] [--keep]
    .venv/bin/python scripts/testenv.py run -- .venv/bin/python bench/root_flood_benchmark.py   # PostgreSQL

A 4.5 MB gzip holding 3.4 million root records once took 8.5 GB and three minutes: the file was one
chunk, every record held and stored at once. This benchmark generates (at run time, in a temporary
folder) one gzip delivery file of N root records (default 3,000,000; each with its own eventID,
spread over A accounts so reconciliation works per account as it does on a real trail), ingests it
with ``audits.ingest.ingest_paths`` in a fresh process, and prints:

* the process's peak resident memory (``ru_maxrss``) before and after ingesting, and the difference;
* wall and CPU seconds, root records stored per second;
* what the run says (status, records read, root records, rows stored, problems).

The database is ``DATABASE_URL`` when set (``testenv.py run`` gives a private PostgreSQL database,
migrated here), otherwise a throwaway SQLite file. Peak memory is the portal's process only (not
PostgreSQL's). The target is under 300 MB whatever N: root records are stored a batch at a time.

A benchmark prints figures; it is not a test. It fails (exit 1) only when the run did not store every
record, since a peak measured on a run that stopped early would mean nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_PEAK_MB = 300
# Records written to the gzip stream at a time while generating.
WRITE_BATCH = 10_000


# --- generation -----------------------------------------------------------------------------------


def _record_template() -> str:
    """A root API call as CloudTrail writes it (compact), with slots for what differs per record."""
    record = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "Root",
            "principalId": "@ACCT@",
            "arn": "arn:aws:iam::@ACCT@:root",
            "accountId": "@ACCT@",
            "accessKeyId": "ASIAROOTCONSOLE",
        },
        "eventTime": "@TIME@",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "console.amazonaws.com",
        "requestParameters": None,
        "responseElements": None,
        "eventID": "@EID@",
        "eventType": "AwsApiCall",
        "recipientAccountId": "@ACCT@",
    }
    return json.dumps(record, separators=(",", ":"))


def generate(path: Path, *, records: int, accounts: int, seed: int = 7) -> tuple[int, int]:
    """Write the file; returns (compressed, uncompressed) bytes."""
    rng = random.Random(seed)
    template = _record_template()
    ids = [f"{rng.randrange(10**11, 10**12):012d}" for _ in range(accounts)]
    start = time.time() - 6 * 3600  # six hours ago: no check-out covers them, nothing in the future
    uncompressed = 0
    with gzip.open(path, "wb", compresslevel=1) as out:
        head = b'{"Records":['
        out.write(head)
        uncompressed += len(head)
        for first in range(0, records, WRITE_BATCH):
            parts = []
            for index in range(first, min(first + WRITE_BATCH, records)):
                moment = time.gmtime(start + index * 0.005)
                parts.append(
                    template.replace("@ACCT@", ids[index % accounts])
                    .replace("@TIME@", time.strftime("%Y-%m-%dT%H:%M:%SZ", moment))
                    .replace("@EID@", f"{rng.getrandbits(128):032x}")
                )
            text = ("," if first else "") + ",".join(parts)
            data = text.encode()
            out.write(data)
            uncompressed += len(data)
        out.write(b"]}")
        uncompressed += 2
    return path.stat().st_size, uncompressed


# --- measuring ------------------------------------------------------------------------------------


def _maxrss_mb() -> float:
    # Linux reports kilobytes, macOS bytes.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def _setup_django(folder: Path) -> str:
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = database
    os.environ["DJANGO_DEBUG"] = "true"  # no secret key or hosts needed; DEBUG itself is turned off below
    os.environ.setdefault("PORTAL_VAR_DIR", str(folder / "var"))
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"  # alerts run in-process instead of needing a broker
    if not os.environ.get("PORTAL_ENCRYPTION_KEYS"):
        import base64

        os.environ["PORTAL_ENCRYPTION_KEYS"] = "bench:" + base64.b64encode(os.urandom(32)).decode()
    import logging

    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # DEBUG keeps every SQL statement in memory
    logging.disable(logging.WARNING)
    from django.core.management import call_command
    from django.urls import get_resolver

    call_command("migrate", verbosity=0, interactive=False)
    get_resolver().url_patterns  # noqa: B018  (start-up, not ingestion)
    return database.split(":", 1)[0]


def measure(path: str, folder: str) -> dict[str, Any]:
    """In a fresh process: set up Django, then ingest the file and report."""
    database = _setup_django(Path(folder))
    from django.conf import settings

    from audits.choices import SourceKind
    from audits.cloudtrail.screen import BATCH_SIZE
    from audits.ingest import ingest_paths
    from audits.models import RootEvent

    before = _maxrss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    run = ingest_paths(paths=[Path(path)], kind=SourceKind.FILES)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "database": database,
        "batch_size": BATCH_SIZE,
        "max_bytes": settings.PORTAL_INGEST_MAX_DECOMPRESSED_BYTES,
        "max_records": settings.PORTAL_INGEST_MAX_RECORDS_PER_FILE,
        "rss_before_mb": before,
        "rss_peak_mb": _maxrss_mb(),
        "wall": wall,
        "cpu": cpu,
        "status": run.status,
        "records_read": run.records_read,
        "root_records": run.root_records,
        "stored": RootEvent.objects.count(),
        "findings_raised": run.findings_raised,
        "errors": run.errors[:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=3_000_000, help="root records in the file")
    parser.add_argument("--accounts", type=int, default=1000, help="AWS accounts they are spread over")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file and database")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="root-flood-", dir=args.dir))
    try:
        path = folder / "root-flood.json.gz"
        began = time.perf_counter()
        compressed, uncompressed = generate(path, records=args.records, accounts=args.accounts)
        print(
            f"generated {args.records:,} root records over {args.accounts:,} accounts in "
            f"{time.perf_counter() - began:.0f} s: {compressed / 1e6:.1f} MB gzip, "
            f"{uncompressed / 1e6:.0f} MB of JSON"
        )
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            result = pool.apply(measure, (str(path), str(folder)))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}")

    grown = result["rss_peak_mb"] - result["rss_before_mb"]
    print(f"machine: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs")
    print(
        f"database: {result['database']}; batch {result['batch_size']:,} records; caps "
        f"{result['max_bytes']:,} bytes and {result['max_records']:,} records per file"
    )
    print(
        f"run: {result['status']}, {result['records_read']:,} records read, {result['root_records']:,} root "
        f"records, {result['stored']:,} stored, {result['findings_raised']:,} findings raised"
    )
    if result["errors"]:
        print(f"problems: {result['errors']}")
    print(
        f"time: {result['wall']:.0f} s wall, {result['cpu']:.0f} s CPU, "
        f"{result['stored'] / max(result['wall'], 1e-9):,.0f} root records stored/s"
    )
    verdict = "under" if result["rss_peak_mb"] < TARGET_PEAK_MB else "OVER"
    print(
        f"peak memory (max RSS of the ingesting process): {result['rss_peak_mb']:.0f} MB "
        f"({result['rss_before_mb']:.0f} MB after start-up, +{grown:.0f} MB while ingesting); "
        f"{verdict} the {TARGET_PEAK_MB} MB target"
    )
    return 0 if result["stored"] == args.records else 1


if __name__ == "__main__":
    sys.exit(main())
