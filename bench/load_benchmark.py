#!/usr/bin/env python3
"""Pages under load on a large organization (issue 13): p50/p95/p99 per page against a trivial view.

    .venv/bin/python scripts/testenv.py run -- .venv/bin/python bench/load_benchmark.py \
        [--scale 1.0] [--users 50] [--seconds 60] [--workers 4] [--locust PATH] [--pages-only]

1. On the PostgreSQL database of ``DATABASE_URL`` (``testenv.py run`` gives a private one; it is
   migrated here) it generates ``org_generator.Shape.large()`` times ``--scale``: 5,000 accounts,
   20,000 grants, 50,000 sessions, 1,000,000 root events, 100,000 findings, 300,000 ledger entries.
2. It signs in one person of each role (a Django session in the database, as a browser sign-in
   leaves it) and, for each, measures every page once in-process: bytes and SQL queries.
3. It starts gunicorn with production settings (DEBUG off, behind an assumed TLS proxy) and runs
   Locust headless: ``--users`` simulated people over the roles' pages (home, lists with filters and
   deep pages, a request, the ledger, findings, an export) for ``--seconds``; a fifth of all requests
   go to ``/healthz``, the trivial view, in the same run. Before the clock starts, every page is
   asked a few times per worker (``warm_up``), so a worker's first compile of a template is not
   counted as the page's cost.
4. It prints, per page: requests, failures, p50/p95/p99 (ms), p95 as a multiple of the trivial
   view's, bytes and queries; and says which pages miss the goals (p95 within 3x the trivial view,
   under 200 KB). A benchmark prints figures; it is not a test, and it exits 0 unless a request failed.

Locust runs in its own virtual environment (``var/bench-locust``, made from
``bench/requirements-locust.txt`` on first use; ``--locust PATH`` names another executable), so the
portal's environment does not carry gevent.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for folder in (ROOT, BENCH):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

P95_GOAL_RATIO = 3.0
PAGE_GOAL_BYTES = 200_000
HOST = "portal.bench.example"


def _key(name: str) -> str:
    return f"{name}:" + base64.b64encode(os.urandom(32)).decode()


def server_environment(var_dir: str) -> dict[str, str]:
    """Production settings with keys made for this run (nothing secret is committed), and the cache
    production has: Redis, shared by the gunicorn workers (``PORTAL_CACHE_URL``, else the Redis that
    ``testenv.py run`` gives as the broker)."""
    cache = os.environ.get("PORTAL_CACHE_URL") or os.environ.get("CELERY_BROKER_URL", "")
    return {
        **({"PORTAL_CACHE_URL": cache} if cache.startswith("redis://") else {}),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": base64.b64encode(os.urandom(48)).decode(),
        "DJANGO_ALLOWED_HOSTS": f"{HOST},testserver,127.0.0.1",
        "PORTAL_ENCRYPTION_KEYS": _key("bench"),
        "PORTAL_LEDGER_KEYS": _key("ledger"),
        "PORTAL_LEDGER_SIGNING_KEY": _key("sign"),
        "PORTAL_LEDGER_ANCHOR": str(Path(var_dir) / "anchor"),
        "PORTAL_EVIDENCE_SIGNING_KEY": _key("evidence"),
        "PORTAL_VAR_DIR": var_dir,
        "PORTAL_IDLE_TIMEOUT_MINUTES": "600",
    }


def _setup_django(environment: dict[str, str]) -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (run through scripts/testenv.py run)")
    os.environ.update(environment)
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)


def measure_in_process(people: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(role, page) -> (bytes, SQL queries), one request each through Django's test client."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    figures = {}
    for persona in people:
        for name, path, _is_list in persona["pages"]:
            with CaptureQueriesContext(connection) as queries:
                response = persona["client"].get(path, secure=True)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            if response.status_code != 200:
                print(f"  ! {persona['role']}: {name} answered {response.status_code}")
            figures[(persona["role"], name)] = (len(body), len(queries.captured_queries))
    return figures


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _locust(explicit: str | None) -> str:
    if explicit:
        return explicit
    venv = ROOT / "var" / "bench-locust"
    executable = venv / "bin" / "locust"
    if not executable.exists():
        print("making var/bench-locust (Locust, from bench/requirements-locust.txt) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "-r", str(BENCH / "requirements-locust.txt")],
            check=True,
        )
    return str(executable)


def warm_up(*, port: int, plan: dict[str, Any], workers: int) -> None:
    """Every page a few times per gunicorn worker before the clock starts: a fresh worker's first
    request of a page compiles its templates and opens its database connection (seconds, on the
    first run after a deploy), which is not what a page costs a running server."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.request import Request, urlopen

    def fetch(cookie: str, path: str) -> None:
        request = Request(
            f"http://127.0.0.1:{port}{path}",
            headers={"Host": HOST, "Cookie": f"{plan['cookie_name']}={cookie}", "X-Forwarded-Proto": "https"},
        )
        with urlopen(request, timeout=60) as response:
            response.read()

    visits = [
        (persona["cookie"], path) for persona in plan["personas"] for _name, path in persona["pages"]
    ] * (2 * workers)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda visit: fetch(*visit), visits))
    print(f"warmed up: {len(visits)} requests in {time.perf_counter() - started:.0f} s")


def run_load(
    *,
    people: list[dict[str, Any]],
    environment: dict[str, str],
    users: int,
    seconds: int,
    workers: int,
    locust: str,
    out: Path,
) -> Path:
    from django.conf import settings

    port = _free_port()
    server_env = {**os.environ, **environment}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "portal.wsgi", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=server_env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        plan = {
            "cookie_name": settings.SESSION_COOKIE_NAME,
            "personas": [
                {
                    "role": persona["role"],
                    "cookie": persona["client"].cookies[settings.SESSION_COOKIE_NAME].value,
                    "pages": [[name, path] for name, path, _is_list in persona["pages"]],
                }
                for persona in people
            ],
        }
        warm_up(port=port, plan=plan, workers=workers)
        subprocess.run(
            [locust, "-f", str(BENCH / "locustfile.py"), "--headless", "--users", str(users),
             "--spawn-rate", str(max(1, users // 5)), "--run-time", f"{seconds}s", "--host",
             f"http://127.0.0.1:{port}", "--csv", str(out), "--only-summary", "--loglevel", "WARNING"],
            env={**os.environ, "BENCH_PLAN": json.dumps(plan)}, check=False,
        )  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return Path(f"{out}_stats.csv")


def report(stats: Path, in_process: dict[tuple[str, str], tuple[int, int]]) -> int:
    rows = {row["Name"]: row for row in csv.DictReader(stats.open()) if row["Name"] != "Aggregated"}
    trivial = next(row for name, row in rows.items() if name.startswith("trivial"))
    trivial_p95 = float(trivial["95%"]) or 1.0
    failures = 0
    missed = []
    header = ("page", "reqs", "fail", "p50", "p95", "p99", "x triv", "KB", "SQL")
    print("\n{:46} {:>6} {:>5} {:>6} {:>6} {:>6} {:>7} {:>7} {:>4}".format(*header))
    for name in sorted(rows, key=lambda n: (n.startswith("trivial"), n)):
        row = rows[name]
        role, _, page = name.partition(": ")
        size, queries = in_process.get((role, page), (0, 0))
        ratio = float(row["95%"]) / trivial_p95
        failures += int(row["Failure Count"])
        counts = f"{row['Request Count']:>6} {row['Failure Count']:>5}"
        times = f"{row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
        print(f"{name[:46]:46} {counts} {times} {ratio:>7.1f} {size / 1000:>7.1f} {queries:>4}")
        if not name.startswith("trivial") and (ratio > P95_GOAL_RATIO or size > PAGE_GOAL_BYTES):
            missed.append(name)
    goal = f"p95 within {P95_GOAL_RATIO:.0f}x the trivial view ({trivial_p95:.0f} ms), pages under 200 KB"
    print(f"\ngoals: {goal}")
    print("missed by: " + (", ".join(missed) if missed else "none"))
    return 1 if failures else 0


def report_pages(people: list[dict[str, Any]], in_process: dict[tuple[str, str], tuple[int, int]]) -> int:
    """Each page's KB and SQL, and the time of a second (warm) request through the test client."""
    print(f"\n{'page':58} {'KB':>7} {'SQL':>4} {'ms':>7}")
    over = []
    for persona in people:
        for name, path, _is_list in persona["pages"]:
            started = time.perf_counter()
            response = persona["client"].get(path, secure=True)
            if response.streaming:
                b"".join(response.streaming_content)
            elapsed = (time.perf_counter() - started) * 1000
            size, queries = in_process[(persona["role"], name)]
            label = f"{persona['role']}: {name}"
            print(f"{label[:58]:58} {size / 1000:>7.1f} {queries:>4} {elapsed:>7.0f}")
            if size > PAGE_GOAL_BYTES:
                over.append(label)
    print("\npages over 200 KB: " + (", ".join(over) if over else "none"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the issue-13 organization")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--locust", help="a locust executable (default: var/bench-locust)")
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="no load: print each page's size, SQL and in-process time (a warm request), then stop",
    )
    args = parser.parse_args(argv)

    var_dir = tempfile.mkdtemp(prefix="load-bench-var-")
    environment = server_environment(var_dir)
    _setup_django(environment)
    from django.core.management import call_command
    from django.db import connection
    from org_generator import Shape, generate
    from personas import personas

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # production serves the manifest
    print(
        f"machine: {platform.machine()} {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; database: {connection.vendor} {connection.pg_version}"
    )
    shape = Shape.large().scaled(args.scale) if args.scale != 1.0 else Shape.large()
    started = time.perf_counter()
    generated = generate(shape)
    counts = {k: v for k, v in generated.items() if k != "by_role"}
    print(f"generated in {time.perf_counter() - started:.0f} s: {counts}")
    people = personas(generated, host=HOST)
    in_process = measure_in_process(people)
    if args.pages_only:
        return report_pages(people, in_process)
    locust = _locust(args.locust)
    stats = run_load(
        people=people, environment=environment, users=args.users, seconds=args.seconds,
        workers=args.workers, locust=locust, out=Path(var_dir) / "load",
    )  # fmt: skip
    print(f"\n{args.users} simulated people for {args.seconds} s, gunicorn with {args.workers} workers")
    return report(stats, in_process)


if __name__ == "__main__":
    sys.exit(main())
