"""The services the tests run against: PostgreSQL and Redis, found or started (``testenv.py``).

In this order: the machine's own services at their standard ports when they answer (a private
database per run, created and dropped here; a Redis database number held with a lock file), else
private instances started from the installed binaries on free ports in a temporary directory,
stopped and removed at exit. Without the binaries it stops and names the Debian packages to install.
"""

from __future__ import annotations

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

LOCAL_POSTGRES = ("127.0.0.1", 5432)
LOCAL_REDIS = ("127.0.0.1", 6379)
PACKAGES_HINT = "apt-get install postgresql redis-server"
_PR_SET_PDEATHSIG = 1


class EnvironmentProblem(Exception):
    """The test environment cannot be set up; the message says what to do."""


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
