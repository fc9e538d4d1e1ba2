#!/usr/bin/env python3
"""How fast the audit ledger appends and verifies, on the database of ``DATABASE_URL``.

    .venv/bin/python scripts/testenv.py run -- .venv/bin/python bench/ledger_benchmark.py \
        [--record N] [--verify N]

1. ``record``: N calls of ``ledger.services.record``, each in its own transaction as a service makes
   it (lock the head, hash, insert the entry, move the head): entries/s.
2. ``verify``: a chain of N entries (appended in bulk with the same hashing as ``record``, because
   N calls of ``record`` would take minutes), then one full walk of ``ledger.chain.verify``:
   entries/s.

The database is migrated first and the ledger tables are emptied (past the append-only triggers)
before each part, so use a throwaway database: ``testenv.py run`` makes one per run.
A benchmark prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def _empty_the_ledger() -> None:
    from django.db import connection

    from ledger.models import LedgerEntry, LedgerHead

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(f"DELETE FROM {LedgerEntry._meta.db_table}")
        cursor.execute(f"DELETE FROM {LedgerHead._meta.db_table}")
        if connection.vendor == "postgresql":
            cursor.execute("RESET session_replication_role")


def bench_record(count: int) -> float:
    from ledger import services

    _empty_the_ledger()
    started = time.perf_counter()
    for n in range(count):
        services.record(
            actor=None, action="bench.record", target_type="bench", target_id=str(n), data={"n": n}
        )
    return count / (time.perf_counter() - started)


def _append_in_bulk(count: int, batch: int = 5000) -> None:
    """``count`` chained entries written with bulk inserts, hashed exactly as ``record`` hashes."""
    from django.db import transaction
    from django.utils import timezone

    from ledger import services
    from ledger.models import LedgerEntry, LedgerHead

    # The first entry through record() itself: it fixes the scheme (and key id) of the chain.
    first = services.record(actor=None, action="bench.verify", data={"n": 0})
    previous_hash, sequence = first.hash, 1
    while sequence < count:
        entries = []
        for _ in range(min(batch, count - sequence)):
            sequence += 1
            entry = LedgerEntry(
                sequence=sequence,
                created_at=timezone.now(),
                actor_name=services.SYSTEM_ACTOR_NAME,
                request_id="-",
                action="bench.verify",
                target_type="bench",
                target_id=str(sequence),
                target_repr="",
                data={"n": sequence},
                previous_hash=previous_hash,
            )
            for field in ("key_id",):
                if hasattr(first, field):
                    setattr(entry, field, getattr(first, field))
            entry.hash = services.hash_of(entry)
            previous_hash = entry.hash
            entries.append(entry)
        with transaction.atomic():
            LedgerEntry.objects.bulk_create(entries)
    LedgerHead.objects.filter(id=1).update(last_sequence=sequence, last_hash=previous_hash)


def bench_verify(count: int) -> tuple[float, float]:
    from ledger import chain

    _empty_the_ledger()
    _append_in_bulk(count)
    started = time.perf_counter()
    result = chain.verify()
    elapsed = time.perf_counter() - started
    if not result.intact:
        raise SystemExit(f"the benchmark's own chain does not verify: {result.first_break}")
    return elapsed, result.entries_checked / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--record", type=int, default=2000, help="entries appended through record()")
    parser.add_argument("--verify", type=int, default=100_000, help="entries in the chain that is verified")
    args = parser.parse_args()

    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    settings.DEBUG = False  # DEBUG keeps every SQL statement in memory
    call_command("migrate", verbosity=0)
    from django.db import connection

    print(
        f"machine: {platform.machine()} {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; database: {connection.vendor}"
    )
    rate = bench_record(args.record)
    print(f"record:  {args.record} entries, {rate:,.0f} entries/s")
    elapsed, rate = bench_verify(args.verify)
    print(f"verify:  {args.verify} entries in {elapsed:.2f} s, {rate:,.0f} entries/s")
    _empty_the_ledger()
    return 0


if __name__ == "__main__":
    sys.exit(main())
