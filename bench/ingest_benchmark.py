#!/usr/bin/env python3
"""How fast the portal ingests an organization trail, against plain zlib and a naive ``json.load``.

    .venv/bin/python bench/ingest_benchmark.py [--records N] [--files F] [--root-every K] [--dir DIR]

1. Generates (once; cached under ``--dir``) a synthetic organization trail of N records in F files laid
   out as CloudTrail delivers them (``AWSLogs/o-…/<account>/CloudTrail/<region>/YYYY/MM/DD/…json.gz``),
   built from the real records in ``../shared/fixtures/cloudtrail/logs`` with fresh ids and times, and
   one root record (from ``../shared/fixtures/cloudtrail/events``) every K records.
2. Measures, each in a fresh process on one core, over the same files:
   * ``zlib``: plain streaming decompression (``zlib.decompressobj``), the floor any reader pays;
   * ``screen``: the project's byte screen, ``audits.cloudtrail.screen.scan_file`` on every file;
   * ``ingest``: ``audits.ingest.ingest_paths`` into a throwaway SQLite database (when that service
     exists): the screen plus storage, reconciliation and the run row;
   * ``isal``: the same plain decompression with ISA-L, which ``inflate.py`` now uses first;
   * ``duckdb``: DuckDB's ``read_json`` counting records and root records (all its threads);
   * ``json``: the naive ``json.load(gzip.open(path))`` loop, what the screen exists to avoid;
   * ``screen-ng`` / ``ingest-ng``: the screen and ingestion with zlib-ng alone (before ISA-L);
   then the screen (and ingestion) over two processes, for records/s on two cores.

Figures: records/s, MB/s of uncompressed JSON, wall and CPU seconds, peak memory (tracemalloc's peak in
a second, untimed pass, and the process's maximum RSS), the ratio to zlib, and the machine. The ratio
is taken on CPU seconds: on a shared machine wall time also counts other people's work.

A benchmark prints figures; it is not a test and asserts only that the screen found every root record.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The project's packages, for this process and for the spawned ones (which import this module first).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from trail_generator import FORMAT_VERSION, generate  # noqa: E402  (after the path is set)
from trail_readers import (  # noqa: E402
    Counts,
    read_duckdb,
    read_isal,
    read_json,
    read_screen,
    read_zlib,
    read_zlib_1m,
)

TARGET_RATIO = 1.5
# Plain decompression: they count bytes, not records.
FLOORS = ("zlib", "zlib-1m", "isal")
TARGET_TWO_CORES = 500_000
TARGET_PEAK_MB = 200


_DJANGO_READY = False


def _setup_django(database: str) -> None:
    global _DJANGO_READY
    if _DJANGO_READY:
        return
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DJANGO_DEBUG"] = "true"  # no secret key or hosts needed; DEBUG itself is turned off below
    os.environ.setdefault("PORTAL_VAR_DIR", str(Path(database).parent / "var"))
    # Alerts and follow-up tasks run in-process instead of needing a broker.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    import base64

    # Findings raised by the reconciliation are ledger entries: the ledger needs its keys too.
    for variable in ("PORTAL_ENCRYPTION_KEYS", "PORTAL_LEDGER_KEYS", "PORTAL_LEDGER_SIGNING_KEY"):
        if not os.environ.get(variable):
            os.environ[variable] = "bench:" + base64.b64encode(os.urandom(32)).decode()
    import django
    from django.conf import settings

    django.setup()
    # DEBUG keeps every SQL statement in memory; a benchmark must not pay for that.
    settings.DEBUG = False
    # Start-up, not ingestion: the URL configuration (imported by the first alert's link) and the
    # warnings that alerts about unknown accounts have nobody to go to in an empty database.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018
    logging.disable(logging.WARNING)
    if os.environ.get(SQLITE_MODE_VARIABLE) == "wal":
        from django.db.backends.signals import connection_created

        connection_created.connect(_wal, weak=False)
    _DJANGO_READY = True


SQLITE_MODE_VARIABLE = "PORTAL_BENCH_SQLITE"


def _wal(sender: Any, connection: Any, **_: Any) -> None:
    """SQLite in write-ahead-log mode, synchronous=NORMAL: a commit no longer waits for fsync (the
    default rollback journal fsyncs several times per commit, and ingestion commits once per file)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")


def ingest_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("audits.ingest") is not None


def prepare_database(template: str) -> None:
    """Migrate a throwaway SQLite database once; each ingest measurement starts from a copy."""
    _setup_django(template)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from django.db import connection

    # Everything into the main file (a WAL journal would otherwise keep it in template.sqlite3-wal,
    # which the copies made from the template do not include).
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def read_ingest(paths: list[str], database: str) -> Counts:
    _setup_django(database)
    from audits.choices import SourceKind
    from audits.ingest import ingest_paths

    run = ingest_paths(paths=[Path(path) for path in paths], kind=SourceKind.FILES)
    if run.files_rejected or run.errors:
        raise SystemExit(f"ingestion rejected files: {run.errors[:3]}")
    return Counts(records=run.records_read, root=run.root_records)


# --- measuring -------------------------------------------------------------------------------------


@dataclass
class Measurement:
    name: str
    records: int = 0
    root: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    maxrss_mb: float = 0.0
    tracemalloc_mb: float | None = None
    repeats: list[float] = field(default_factory=list)


def _readers() -> dict[str, Callable[..., Counts]]:
    return {
        "zlib": read_zlib,
        "zlib-1m": read_zlib_1m,
        "screen": read_screen,
        "json": read_json,
        "ingest": read_ingest,
        "isal": read_isal,
        "duckdb": read_duckdb,
    }


NG = "-ng"


def duckdb_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("duckdb") is not None


def zlib_ng_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("zlib_ng") is not None


def _use_zlib_ng() -> None:
    """``audits/cloudtrail/inflate.py`` before ISA-L: zlib-ng's drop-in ``zlib`` module alone (the ``-ng``
    variants), to show what ISA-L, now tried first, gains."""
    from zlib_ng import zlib_ng

    import audits.cloudtrail.inflate as inflate

    inflate.zlib = zlib_ng
    inflate.fast_zlib = None


def _prepare(name: str, database: str | None) -> Callable[[], Counts]:
    """Imports and set-up of one reader (start-up, not measured); the call that does the work."""
    base = name.removesuffix(NG)
    if name.endswith(NG):
        _use_zlib_ng()
    reader = _readers()[base]
    if base == "ingest":
        assert database is not None
        _setup_django(database)
        return lambda: reader(_PATHS, database)
    if base == "screen":
        import audits.cloudtrail.screen  # noqa: F401
    if base == "duckdb":
        import duckdb  # noqa: F401
    return lambda: reader(_PATHS)


_PATHS: list[str] = []


def _measure_child(name: str, paths: list[str], database: str | None, trace: bool) -> dict[str, Any]:
    """Runs in a fresh process: one timed pass, then (optionally) an untimed pass under tracemalloc."""
    _PATHS[:] = paths
    work = _prepare(name, database)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    counts = work()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    traced: float | None = None
    # A second ingestion into the same database would be an idempotent no-op, not the same work:
    # ingestion gets its own traced run on a fresh database (``_traced_child``).
    if trace and not name.startswith("ingest"):
        tracemalloc.start()
        work()
        traced = tracemalloc.get_traced_memory()[1] / (1 << 20)
        tracemalloc.stop()
    return {"counts": asdict(counts), "wall": wall, "cpu": cpu, "maxrss_mb": maxrss_mb, "traced": traced}


def _traced_child(name: str, paths: list[str], database: str) -> float:
    _PATHS[:] = paths
    work = _prepare(name, database)
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / (1 << 20)
    tracemalloc.stop()
    return peak


def _many(name: str, paths: list[str], database: str | None) -> int:
    _PATHS[:] = paths
    return _prepare(name, database)().records


def _batches(paths: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(paths), size):
        yield paths[start : start + size]


def two_cores(name: str, paths: list[str], *, database: str | None) -> float:
    """Records/s (wall) of one reader over two processes.

    The screen takes files in small batches from a shared queue; ingestion gives each process every
    other file, as two Celery workers each take their own units, both writing to one database.
    """
    context = multiprocessing.get_context("spawn")
    with context.Pool(2, initializer=_warm, initargs=(name, database)) as pool:
        pool.map(_noop, range(2))  # both workers up and imported before the clock starts
        started = time.perf_counter()
        if name.startswith("ingest"):
            parts = [(name, paths[0::2], database), (name, paths[1::2], database)]
            records = sum(pool.starmap(_many, parts))
        else:
            jobs = ((name, batch, None) for batch in _batches(paths, 4))
            records = sum(pool.starmap(_many, jobs))
        return records / (time.perf_counter() - started)


def _warm(name: str, database: str | None) -> None:
    _prepare(name, database)


def _noop(_: int) -> None:
    time.sleep(0.2)


# --- report --------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mhz = ""
    try:
        speeds = [
            float(line.split(":", 1)[1])
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("cpu MHz")
        ]
        mhz = f" @ {max(speeds):.0f} MHz" if speeds else ""
    except (OSError, ValueError):
        pass
    return {
        "cpu": model + mhz,
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "os": f"{platform.system()} {platform.release()}",
        "load_before": os.getloadavg(),
    }


def _verdicts(
    results: dict[str, Measurement], two: dict[str, float], names: list[str], baseline: float | None
) -> list[str]:
    lines = []
    for key in names:
        if key.removesuffix(NG) not in ("screen", "ingest") or not baseline:
            continue
        result = results[key]
        ratio = result.cpu / baseline
        parts = [
            f"{ratio:.2f} x zlib ({'met' if ratio <= TARGET_RATIO else 'missed'}, target <= {TARGET_RATIO})"
        ]
        if key in two:
            met = "met" if two[key] >= TARGET_TWO_CORES else "missed"
            parts.append(f"{two[key]:,.0f} records/s on two cores ({met}, target >= {TARGET_TWO_CORES:,})")
            if "zlib" in results and results["zlib"].wall:
                # Wall time of the two-process run against one process merely inflating with zlib.
                floor_rate = results["zlib"].records / results["zlib"].wall
                parts.append(f"two cores take {floor_rate / two[key]:.2f} x the zlib floor's wall time")
        if "duckdb" in results and results["duckdb"].cpu:
            parts.append(f"{result.cpu / results['duckdb'].cpu:.2f} x DuckDB read_json's CPU time")
        peak = max(result.tracemalloc_mb or 0.0, result.maxrss_mb)
        parts.append(
            f"peak {peak:.0f} MB ({'met' if peak < TARGET_PEAK_MB else 'missed'}, target < {TARGET_PEAK_MB})"
        )
        lines.append(f"{key}: " + "; ".join(parts))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the trail (1,000,000)")
    parser.add_argument("--files", type=int, default=400, help="delivery files (400, ~2,500 records each)")
    parser.add_argument("--root-every", type=int, default=100_000, help="one root record every K (100,000)")
    parser.add_argument("--dir", type=Path, default=None, help="where the generated trail is cached")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per reader; the best counts")
    every = sorted([*_readers(), "screen" + NG, "ingest" + NG])
    parser.add_argument("--only", nargs="*", choices=every, help="measure only these readers")
    parser.add_argument("--no-zlib-ng", action="store_true", help="skip the zlib-ng variants")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc passes")
    parser.add_argument("--no-two-cores", action="store_true", help="skip the two-process runs")
    parser.add_argument(
        "--sqlite",
        choices=["default", "wal"],
        default="default",
        help="the throwaway database's journal: SQLite's default (what `make run` has) or WAL",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    os.environ[SQLITE_MODE_VARIABLE] = args.sqlite  # read by the spawned processes

    directory = args.dir or Path(tempfile.gettempdir()) / (
        f"portal-bench-trail-v{FORMAT_VERSION}-{args.records}-{args.files}-{args.root_every}"
    )
    print(f"trail: {directory}", flush=True)
    started = time.perf_counter()
    trail = generate(directory, records=args.records, files=args.files, root_every=args.root_every)
    print(
        f"  {trail.records:,} records ({trail.root_records} root) in {len(trail.files)} files, "
        f"{trail.bytes_compressed / 1e6:,.1f} MB gzip, {trail.bytes_uncompressed / 1e6:,.1f} MB JSON, "
        f"{trail.bytes_uncompressed / max(trail.records, 1):,.0f} bytes/record "
        f"(ready in {time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    paths = [str(path) for path in trail.files]
    for path in paths:  # into the page cache, so the first reader measured is not charged the disk
        Path(path).read_bytes()
    load_before = os.getloadavg()

    names = args.only or ["zlib", "isal", "screen", "ingest", "duckdb", "json", "screen" + NG, "ingest" + NG]
    if "duckdb" in names and not duckdb_available():
        print("  duckdb: not installed (pip install -r bench/requirements-bench.txt); skipped", flush=True)
        names.remove("duckdb")
    if not zlib_ng_available() or args.no_zlib_ng:
        if any(name.endswith(NG) for name in names) and not args.no_zlib_ng:
            print("  zlib-ng variants: the zlib-ng package is not installed; skipped", flush=True)
        names = [name for name in names if not name.endswith(NG)]
    if not ingest_available():
        print("  ingest: audits.ingest does not exist yet; skipped", flush=True)
        names = [name for name in names if not name.startswith("ingest")]
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-db-"))
    template_db = str(workdir / "template.sqlite3")
    context = multiprocessing.get_context("spawn")
    if any(name.startswith("ingest") for name in names):
        with context.Pool(1) as pool:
            pool.apply(prepare_database, (template_db,))

    def fresh_db(label: str) -> str:
        target = workdir / f"{label}.sqlite3"
        shutil.copyfile(template_db, target)
        return str(target)

    results: dict[str, Measurement] = {name: Measurement(name) for name in names}
    two: dict[str, float] = {}
    try:
        # Readers interleaved pass by pass, so a burst of load elsewhere does not hit one reader only.
        for attempt in range(args.repeat):
            for name in names:
                database = fresh_db(f"{name}-{attempt}") if name.startswith("ingest") else None
                trace = attempt == 0 and not args.no_tracemalloc
                with context.Pool(1) as pool:
                    found = pool.apply(_measure_child, (name, paths, database, trace))
                result = results[name]
                result.repeats.append(round(found["cpu"], 3))
                if not result.cpu or found["cpu"] < result.cpu:
                    result.wall, result.cpu = found["wall"], found["cpu"]
                result.records = found["counts"]["records"] or trail.records
                result.root = found["counts"]["root"]
                result.maxrss_mb = max(result.maxrss_mb, found["maxrss_mb"])
                if found["traced"] is not None:
                    result.tracemalloc_mb = found["traced"]
                print(
                    f"  pass {attempt + 1}/{args.repeat} {name:<10} wall {found['wall']:7.2f} s  "
                    f"cpu {found['cpu']:7.2f} s",
                    flush=True,
                )
        for name in names:
            if name.startswith("ingest") and not args.no_tracemalloc:
                with context.Pool(1) as pool:
                    results[name].tracemalloc_mb = pool.apply(
                        _traced_child, (name, paths, fresh_db(f"traced-{name}"))
                    )
        if not args.no_two_cores and (os.cpu_count() or 1) >= 2:
            for name in names:
                if name.removesuffix(NG) in ("screen", "ingest"):
                    database = fresh_db(f"two-{name}") if name.startswith("ingest") else None
                    two[name] = two_cores(name, paths, database=database)
                    print(f"  two processes {name:<10} {two[name]:,.0f} records/s", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    for name in names:
        if name not in FLOORS and results[name].root != trail.root_records:
            print(f"!! {name} found {results[name].root} root records; the trail has {trail.root_records}")

    info = machine()
    info["load_before"] = load_before
    info["load_after"] = os.getloadavg()
    megabytes = trail.bytes_uncompressed / 1e6
    baseline = results["zlib"].cpu if "zlib" in results else None
    print()
    print(
        f"Machine: {info['cpu']}, {info['cores']} cores; {info['python']}; zlib {info['zlib']}; {info['os']}"
    )
    print(
        "Load average (1, 5, 15 min) before / after: "
        + " / ".join(", ".join(f"{x:.2f}" for x in info[key]) for key in ("load_before", "load_after"))
    )
    print(
        f"Trail: {trail.records:,} records ({trail.root_records} by root) in {len(trail.files)} files, "
        f"{megabytes:,.0f} MB of JSON, {trail.bytes_compressed / 1e6:,.0f} MB gzip"
    )
    if any(name.startswith("ingest") for name in names):
        print(f"Ingestion into a throwaway SQLite database, journal: {args.sqlite}")
    print(f"One process each, best of {args.repeat} passes by CPU time (records/s and MB/s per CPU second):")
    header = f"{'reader':<11}{'records/s':>11}{'MB/s':>7}{'wall s':>8}{'CPU s':>8}{'x zlib':>8}"
    header += f"{'tracemalloc MB':>16}{'max RSS MB':>12}"
    print(header)
    table: list[dict[str, Any]] = []
    for name in names:
        result = results[name]
        rate = trail.records / result.cpu if result.cpu else 0.0
        ratio = result.cpu / baseline if baseline else None
        traced = f"{result.tracemalloc_mb:.1f}" if result.tracemalloc_mb is not None else "-"
        print(
            f"{name:<11}{rate:>11,.0f}{megabytes / result.cpu:>7,.0f}{result.wall:>8.2f}{result.cpu:>8.2f}"
            f"{(f'{ratio:.2f}' if ratio else '-'):>8}{traced:>16}{result.maxrss_mb:>12.1f}"
        )
        table.append({**asdict(result), "records_per_s": rate, "ratio_to_zlib": ratio})
    if two:
        print("Two processes (records/s by wall time, start-up excluded):")
        for name, rate in two.items():
            print(f"  {name:<11}{rate:>11,.0f}")
    print("Targets:")
    for line in _verdicts(results, two, names, baseline):
        print(f"  {line}")
    if args.json:
        report = {
            "machine": info,
            "trail": {**asdict(trail), "files": len(trail.files), "directory": str(trail.directory)},
            "readers": table,
            "two_cores": two,
            "sqlite": args.sqlite,
        }
        args.json.write_text(json.dumps(report, default=str, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
