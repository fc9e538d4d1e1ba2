#!/usr/bin/env python3
"""Runs the portal's checks and tests in a known environment, on PostgreSQL and Redis.

    testenv.py test [PYTEST ARGS...]  ruff check, ruff format --check, mypy, makemigrations --check,
                                      then pytest on PostgreSQL and Redis (``make test``)
    testenv.py lint                   the first three only, no services (``make lint``)
    testenv.py run -- CMD ...         any command with the services and variables of ``test``
    testenv.py deploy-check           ``manage.py check --deploy --fail-level WARNING`` with a
                                      production-like configuration (``make check-deploy``)

Where the services come from, in this order:

1. ``DATABASE_URL`` / ``CELERY_BROKER_URL`` when set: used as given.
2. The machine's own services at their standard ports, when they answer: PostgreSQL on
   127.0.0.1:5432 as user ``postgres`` without a password, Redis on 127.0.0.1:6379. Each run gets
   its own database (created here, dropped at exit) and its own Redis database number (held with
   a lock file), so runs in parallel on one machine do not see each other.
3. Private instances started from the installed binaries (PostgreSQL's ``initdb``/``postgres`` from
   /usr/lib/postgresql/*/bin, ``redis-server``) on free ports in a temporary directory, stopped
   and removed at exit. ``PORTAL_TEST_PRIVATE_SERVICES=1`` skips step 2.

Without the binaries it stops and names the Debian packages to install.

The tests always run with ``DJANGO_DEBUG=true``, a random ``DJANGO_SECRET_KEY``, a freshly generated
``PORTAL_ENCRYPTION_KEYS``, ``PORTAL_LEDGER_KEYS`` and ``PORTAL_LEDGER_SIGNING_KEY`` and a temporary
``PORTAL_VAR_DIR`` (the ledger's checkpoints go to a folder under it); other ``DJANGO_*``, ``PORTAL_*`` and
``CELERY_*`` variables of the calling shell are dropped so every machine runs the same suite.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from devenv import (
    ROOT,
    new_encryption_keys,
    new_evidence_signing_key,
    new_ledger_keys,
    new_ledger_signing_key,
    new_secret_key,
)

LOCAL_POSTGRES = ("127.0.0.1", 5432)
LOCAL_REDIS = ("127.0.0.1", 6379)
PACKAGES_HINT = "apt-get install postgresql redis-server"
# Variables the tests must not inherit from a developer's shell (they change settings).
INHERITED_PREFIXES = ("DJANGO_", "PORTAL_", "CELERY_")
KEEP = {"PORTAL_TEST_PRIVATE_SERVICES", "PORTAL_CHROMIUM"}
_PR_SET_PDEATHSIG = 1


class EnvironmentProblem(Exception):
    """The test environment cannot be set up; the message says what to do."""


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP arrived."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def log(message: str) -> None:
    print(f"testenv: {message}", file=sys.stderr, flush=True)


def truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


# --- Probes --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_answers(url: str) -> str | None:
    """None when ``url`` accepts a connection and a query, else the reason it does not."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return None


def redis_answers(host: str, port: int) -> str | None:
    """None when a Redis server answers PING at host:port, else the reason it does not."""
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError as error:
        return str(error)
    return None if reply.startswith(b"+PONG") else f"answered {reply[:40]!r}"


# --- Child processes -------------------------------------------------------------------------------


def _child_setup(death_signal: int) -> Callable[[], None]:
    def setup() -> None:
        # A private server must not outlive this script, even if it is killed with SIGKILL.
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, death_signal)

    return setup


def run_quiet(argv: Sequence[str], *, user: str | None = None, cwd: Path | None = None) -> None:
    result = subprocess.run(
        argv, cwd=cwd, user=user, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise EnvironmentProblem(f"{' '.join(argv)} failed ({result.returncode}):\n{output}")


@dataclass
class Server:
    """A private server process in its own process group, stopped with ``stop_signal``."""

    name: str
    process: subprocess.Popen[bytes]
    stop_signal: int
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, self.stop_signal)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_server(
    name: str, argv: Sequence[str], *, log_path: Path, stop_signal: int, user: str | None = None
) -> Server:
    handle: IO[bytes]
    with open(log_path, "ab") as handle:
        process = subprocess.Popen(
            argv,
            cwd=log_path.parent,
            user=user,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            # Own process group: the terminal's Ctrl-C must not stop it before the tests' teardown.
            process_group=0,
            preexec_fn=_child_setup(stop_signal),
        )
    return Server(name, process, stop_signal, log_path)


def wait_until(server: Server, ready: Callable[[], str | None], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    reason: str | None = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise EnvironmentProblem(
                f"{what} exited with status {server.process.returncode}:\n{server.log_tail()}"
            )
        reason = ready()
        if reason is None:
            return
        time.sleep(0.2)
    raise EnvironmentProblem(f"{what} did not answer within {timeout:.0f}s ({reason}):\n{server.log_tail()}")


# --- PostgreSQL ----------------------------------------------------------------------------------


def postgres_bindir() -> Path:
    """The newest PostgreSQL server's bin directory (Debian keeps each major version apart)."""

    def major(binary: Path) -> int:
        name = binary.parent.parent.name
        return int(name) if name.isdigit() else 0

    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=major)
    if installed and (installed[-1].parent / "initdb").exists():
        return installed[-1].parent
    found = shutil.which("initdb")
    if found and (Path(found).parent / "postgres").exists():
        return Path(found).parent
    raise EnvironmentProblem(
        "no PostgreSQL server binaries (initdb, postgres) under /usr/lib/postgresql/*/bin or on PATH, and no "
        f"PostgreSQL answering at {LOCAL_POSTGRES[0]}:{LOCAL_POSTGRES[1]}. Install the Debian package "
        f"postgresql ({PACKAGES_HINT}), or set DATABASE_URL."
    )


def unprivileged_user() -> str | None:
    """initdb and postgres refuse to run as root: use the ``postgres`` (or ``nobody``) account."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise EnvironmentProblem("running as root, and neither a 'postgres' nor a 'nobody' user exists")


def start_private_postgres(stack: contextlib.ExitStack, workdir: Path) -> str:
    bindir = postgres_bindir()
    user = unprivileged_user()
    home = workdir / "postgres"
    home.mkdir()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
        os.chown(home, entry.pw_uid, entry.pw_gid)
    data = home / "data"
    started = time.monotonic()
    run_quiet(
        [
            str(bindir / "initdb"),
            "--pgdata",
            str(data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ],
        user=user,
        cwd=home,
    )
    port = free_port()
    server = start_server(
        "postgres",
        [
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(home),
            "-c",
            "listen_addresses=127.0.0.1",
            # Durability is worthless for a throw-away test cluster; speed is not.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ],
        log_path=home / "postgres.log",
        stop_signal=signal.SIGINT,  # PostgreSQL's "fast" shutdown
        user=user,
    )
    stack.callback(server.stop)
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    wait_until(server, lambda: postgres_answers(url), f"private PostgreSQL ({bindir})")
    elapsed = time.monotonic() - started
    log(f"started private PostgreSQL {bindir.parent.name} on 127.0.0.1:{port} in {elapsed:.1f}s")
    return f"postgresql://postgres@127.0.0.1:{port}"


def per_run_database(stack: contextlib.ExitStack, server_url: str) -> str:
    """Create a database for this run on a shared server and drop it at exit."""
    import psycopg

    name = f"portal_{uuid.uuid4().hex[:10]}"
    admin_url = f"{server_url}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        try:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                # pytest-django normally drops its test database; an interrupted run may not.
                rows = conn.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"test_{name}%",)
                ).fetchall()
                for (leftover,) in rows:
                    conn.execute(f'DROP DATABASE IF EXISTS "{leftover}" WITH (FORCE)')
        except psycopg.Error as error:
            log(f"could not drop database {name}: {error}")

    stack.callback(drop)
    return f"{server_url}/{name}"


def choose_postgres(stack: contextlib.ExitStack, workdir: Path, force_private: bool) -> tuple[str, str]:
    given = os.environ.get("DATABASE_URL", "").strip()
    if given:
        return given, "DATABASE_URL from the environment"
    if not force_private:
        host, port = LOCAL_POSTGRES
        reason = postgres_answers(f"postgresql://postgres@{host}:{port}/postgres")
        if reason is None:
            database_url = per_run_database(stack, f"postgresql://postgres@{host}:{port}")
            return database_url, f"local PostgreSQL {host}:{port}"
        log(f"no usable PostgreSQL at {host}:{port} as user postgres ({reason}); starting a private one")
    server_url = start_private_postgres(stack, workdir)
    return per_run_database(stack, server_url), "private PostgreSQL"


# --- Redis ---------------------------------------------------------------------------------------


def start_private_redis(stack: contextlib.ExitStack, workdir: Path) -> tuple[str, int]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise EnvironmentProblem(
            f"no redis-server on PATH and no Redis answering at {LOCAL_REDIS[0]}:{LOCAL_REDIS[1]}. "
            f"Install the Debian package redis-server ({PACKAGES_HINT}), or set CELERY_BROKER_URL."
        )
    home = workdir / "redis"
    home.mkdir()
    port = free_port()
    server = start_server(
        "redis",
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(home),
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ],
        log_path=home / "redis.log",
        stop_signal=signal.SIGTERM,
    )
    stack.callback(server.stop)
    wait_until(server, lambda: redis_answers("127.0.0.1", port), "private Redis")
    log(f"started private Redis on 127.0.0.1:{port}")
    return "127.0.0.1", port


def lock_redis_db(stack: contextlib.ExitStack, host: str, port: int) -> int:
    """A Redis database number no other run on this machine holds (the machine's Redis is shared)."""
    lock_dir = Path(tempfile.gettempdir())
    for number in range(1, 16):
        handle = open(lock_dir / f"portal-testenv-redis-{host}-{port}-{number}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        stack.callback(handle.close)
        return number
    raise EnvironmentProblem(f"all Redis databases 1-15 on {host}:{port} are held by other test runs")


def choose_redis(stack: contextlib.ExitStack, workdir: Path, force_private: bool) -> tuple[str, str]:
    given = os.environ.get("CELERY_BROKER_URL", "").strip()
    if given:
        return given, "CELERY_BROKER_URL from the environment"
    host, port = LOCAL_REDIS
    reason = None if force_private else redis_answers(host, port)
    if reason is not None:
        log(f"no Redis at {host}:{port} ({reason}); starting a private one")
    if force_private or reason is not None:
        host, port = start_private_redis(stack, workdir)
        return f"redis://{host}:{port}/1", f"private Redis {host}:{port}"
    number = lock_redis_db(stack, host, port)
    return f"redis://{host}:{port}/{number}", f"local Redis {host}:{port} db {number}"


# --- Environment -----------------------------------------------------------------------------------


@dataclass
class PreparedEnvironment:
    env: dict[str, str]
    notes: list[str] = field(default_factory=list)


def base_environment(var_dir: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(INHERITED_PREFIXES) or name in KEEP
    }
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_DEBUG": "true",
            "DJANGO_SECRET_KEY": new_secret_key(),
            "PORTAL_ENCRYPTION_KEYS": new_encryption_keys(),
            "PORTAL_LEDGER_KEYS": new_ledger_keys(),
            "PORTAL_LEDGER_SIGNING_KEY": new_ledger_signing_key(),
            "PORTAL_EVIDENCE_SIGNING_KEY": new_evidence_signing_key(),
            "PORTAL_VAR_DIR": str(var_dir),
            # Playwright's sync API runs an event loop in the test thread; the ORM must be allowed there.
            "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
        }
    )
    return env


@contextlib.contextmanager
def environment(*, services: bool) -> Iterator[PreparedEnvironment]:
    with contextlib.ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="portal-testenv-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        workdir.chmod(0o755)  # the private PostgreSQL runs as another user and lives below it
        var_dir = workdir / "var"
        # STATIC_ROOT lives here; whitenoise warns on every request when it does not exist.
        (var_dir / "staticfiles").mkdir(parents=True)
        result = PreparedEnvironment(base_environment(var_dir))
        if services:
            force_private = truthy("PORTAL_TEST_PRIVATE_SERVICES")
            database_url, db_note = choose_postgres(stack, workdir, force_private)
            broker_url, broker_note = choose_redis(stack, workdir, force_private)
            result.env["DATABASE_URL"] = database_url
            result.env["CELERY_BROKER_URL"] = broker_url
            result.notes += [f"database: {db_note}", f"broker: {broker_note}"]
        yield result


# --- Running steps ---------------------------------------------------------------------------------


class StepRunner:
    """Runs commands one after another; a signal is forwarded to the running one, then ends the run."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.current: subprocess.Popen[bytes] | None = None
        self.interrupted: int | None = None

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.interrupted = signum
        if self.current is not None and self.current.poll() is None:
            if signum == signal.SIGINT:
                # A terminal's Ctrl-C already reached the step (same process group); a second
                # SIGINT would cut its clean-up short. A SIGINT sent to this script alone is rare.
                return
            with contextlib.suppress(ProcessLookupError):
                self.current.send_signal(signal.SIGTERM)
        else:
            raise Interrupted(signum)

    def install_handlers(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def run(self, argv: Sequence[str]) -> int:
        if self.interrupted is not None:
            raise Interrupted(self.interrupted)
        self.current = subprocess.Popen(list(argv), cwd=ROOT, env=self.env)
        try:
            code = self.current.wait()
        finally:
            self.current = None
        if self.interrupted is not None:
            raise Interrupted(self.interrupted)
        return code


def chromium_path(env: dict[str, str]) -> str:
    return env.get("PORTAL_CHROMIUM") or "/usr/bin/chromium"


def pytest_argv(args: list[str], env: dict[str, str], notes: list[str]) -> list[str]:
    argv = [sys.executable, "-m", "pytest"]
    if truthy("CI"):
        argv += ["--durations=15"]
    if not Path(chromium_path(env)).exists():
        if truthy("CI"):
            notes.append(f"{chromium_path(env)} is missing: browser tests will fail (install chromium)")
        elif not any(a.startswith("-m") for a in args):
            argv += ["-m", "not browser"]
            notes.append(
                f"{chromium_path(env)} is missing: browser tests deselected "
                "(apt-get install chromium chromium-driver to run them)"
            )
    return argv + args


def run_steps(steps: list[tuple[str, list[str]]], runner: StepRunner) -> int:
    results: list[tuple[str, int, float]] = []
    for title, argv in steps:
        print(f"\n=== {title}", flush=True)
        started = time.monotonic()
        code = runner.run(argv)
        elapsed = time.monotonic() - started
        if title == "pytest" and code == 5:
            print("pytest collected no tests (exit status 5): that is a failure here.", flush=True)
        results.append((title, code, elapsed))
    print("\n=== summary", flush=True)
    for title, code, elapsed in results:
        status = "ok" if code == 0 else f"FAILED (exit status {code})"
        print(f"  {title:<45} {status:<28} {elapsed:7.1f}s", flush=True)
    return 0 if all(code == 0 for _, code, _ in results) else 1


def lint_steps() -> list[tuple[str, list[str]]]:
    python = sys.executable
    return [
        ("ruff check .", [python, "-m", "ruff", "check", "."]),
        ("ruff format --check .", [python, "-m", "ruff", "format", "--check", "."]),
        ("mypy .", [python, "-m", "mypy", "."]),
    ]


def command_test(pytest_args: list[str]) -> int:
    runner = StepRunner({})
    runner.install_handlers()
    with environment(services=True) as test_env:
        runner.env = test_env.env
        steps = [
            *lint_steps(),
            (
                "manage.py makemigrations --check --dry-run",
                [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
            ),
            ("pytest", pytest_argv(pytest_args, test_env.env, test_env.notes)),
        ]
        for note in test_env.notes:
            log(note)
        return run_steps(steps, runner)


def command_lint() -> int:
    runner = StepRunner({})
    runner.install_handlers()
    with environment(services=False) as test_env:
        runner.env = test_env.env
        return run_steps(lint_steps(), runner)


def command_run(argv: list[str]) -> int:
    if not argv:
        raise EnvironmentProblem("run needs a command: testenv.py run -- CMD ...")
    runner = StepRunner({})
    runner.install_handlers()
    with environment(services=True) as test_env:
        runner.env = test_env.env
        for note in test_env.notes:
            log(note)
        return runner.run(argv)


def command_deploy_check() -> int:
    """Django's deployment checks with the configuration production would have."""
    runner = StepRunner({})
    runner.install_handlers()
    with environment(services=False) as test_env:
        env = test_env.env
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # tests only; check --deploy rightly refuses it
        env.update(
            {
                "DJANGO_DEBUG": "false",
                "DJANGO_SECRET_KEY": new_secret_key(),
                "DJANGO_ALLOWED_HOSTS": "breakglass.example.com",
                "DJANGO_CSRF_TRUSTED_ORIGINS": "https://breakglass.example.com",
                "DATABASE_URL": "postgresql://portal@127.0.0.1:5432/portal",
                "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
                "PORTAL_CACHE_URL": "redis://127.0.0.1:6379/1",
                "PORTAL_BASE_URL": "https://breakglass.example.com",
                "PORTAL_ENCRYPTION_KEYS": new_encryption_keys(),
                "PORTAL_LEDGER_KEYS": new_ledger_keys(),
                "PORTAL_LEDGER_SIGNING_KEY": new_ledger_signing_key(),
                "PORTAL_EVIDENCE_SIGNING_KEY": new_evidence_signing_key(),
                "PORTAL_LEDGER_ANCHOR": "s3://breakglass-ledger-anchor/checkpoints",
                "PORTAL_TRUSTED_PROXY_COUNT": "1",  # the TLS proxy in front (portal.W002)
            }
        )
        runner.env = env
        return runner.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"])


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    test = commands.add_parser("test", help="lint, migrations check and pytest (extra args go to pytest)")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    commands.add_parser("lint", help="ruff check, ruff format --check, mypy")
    run = commands.add_parser("run", help="run a command in the test environment")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    commands.add_parser("deploy-check", help="manage.py check --deploy with a production-like configuration")
    args = parser.parse_args(argv)

    def strip_dashes(values: list[str]) -> list[str]:
        return values[1:] if values[:1] == ["--"] else values

    try:
        if args.command == "test":
            return command_test(strip_dashes(args.pytest_args))
        if args.command == "lint":
            return command_lint()
        if args.command == "run":
            return command_run(strip_dashes(args.argv))
        return command_deploy_check()
    except EnvironmentProblem as problem:
        log(f"cannot set up the test environment: {problem}")
        return 2
    except Interrupted as interruption:
        log(f"interrupted ({interruption}); services stopped")
        return 128 + interruption.signum


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
