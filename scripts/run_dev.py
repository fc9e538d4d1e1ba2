#!/usr/bin/env python3
"""The development runner behind ``make run``.

    run_dev.py init-env            write var/dev.env once (random encryption key, DJANGO_DEBUG=true)
    run_dev.py exec -- CMD ...     run CMD with var/dev.env loaded (``make run`` migrates and seeds so)
    run_dev.py serve [--port N]    run the web server, a Celery worker and Celery beat together

``serve`` is a small supervisor: each program runs in its own process group, its output is
prefixed with its name, and Ctrl-C (SIGINT), SIGTERM or SIGHUP stops all three, their children
included, so nothing is left running. If one of them exits on its own, the others are stopped too.

Variables already set in the environment win over var/dev.env, so ``DATABASE_URL=... make run``
runs against another database.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
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
    read_env_file,
    write_env_file,
)

DEV_ENV = ROOT / "var" / "dev.env"
STOP_TIMEOUT = 15.0
_PR_SET_PDEATHSIG = 1


def init_env(path: Path) -> None:
    generated = {
        "PORTAL_ENCRYPTION_KEYS": new_encryption_keys,
        "PORTAL_LEDGER_KEYS": new_ledger_keys,
        "PORTAL_LEDGER_SIGNING_KEY": new_ledger_signing_key,
        "PORTAL_EVIDENCE_SIGNING_KEY": new_evidence_signing_key,
    }
    if path.exists():
        # A file from before the ledger was keyed gets the keys it lacks; nothing it has is replaced.
        values = read_env_file(path)
        missing = [name for name in generated if name not in values]
        if not missing:
            print(f"{path.relative_to(ROOT)} exists; keeping it (delete it for new keys).")
            return
        ends_with_newline = path.read_bytes().endswith(b"\n")
        with path.open("a", encoding="utf-8") as handle:
            if not ends_with_newline:
                handle.write("\n")
            for name in missing:
                handle.write(f"{name}={generated[name]()}\n")
        print(f"{path.relative_to(ROOT)} exists; added {', '.join(missing)}.")
        return
    write_env_file(
        path,
        {
            "DJANGO_DEBUG": "true",
            "DJANGO_SECRET_KEY": new_secret_key(),
            **{name: make() for name, make in generated.items()},
        },
        header=(
            "Development settings for `make run`, generated once by scripts/run_dev.py.\n"
            "Never use these values in production. Variables set in the environment win over this file.\n"
            "Root passwords stored in the demo are encrypted under PORTAL_ENCRYPTION_KEYS, and the audit\n"
            "ledger is chained with PORTAL_LEDGER_KEYS and checkpointed (var/ledger-anchor) with\n"
            "PORTAL_LEDGER_SIGNING_KEY: keep the keys as long as you keep var/portal.sqlite3."
        ),
    )
    print(f"Wrote {path.relative_to(ROOT)} with a new random PORTAL_ENCRYPTION_KEYS and ledger keys.")


def load_dev_env(path: Path, *, port: int | None = None, host: str = "127.0.0.1") -> None:
    """Load var/dev.env under the environment; with ``port``, links in notifications and the printed
    sign-in link point at that port (``PORTAL_BASE_URL``) unless the environment or var/dev.env
    names another base URL."""
    if not path.exists():
        sys.exit(f"{path} is missing: run `make run` (or `python scripts/run_dev.py init-env`) first.")
    for name, value in read_env_file(path).items():
        os.environ.setdefault(name, value)
    if port is not None:
        os.environ.setdefault("PORTAL_BASE_URL", base_url(host, port))


def base_url(host: str, port: int) -> str:
    return f"http://{host}:{port}"


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the supervisor itself dies (even by SIGKILL). Linux only."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


@dataclass
class Program:
    name: str
    argv: list[str]
    # Celery's main process stops its own pool; a signal to the pool processes as well makes a
    # warm shutdown hang. runserver's reloader and its server child both just exit on SIGTERM.
    stop_whole_group: bool = True
    process: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = field(default=None, repr=False)

    def start(self, write: Callable[[str, str], None]) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Its own process group: the terminal's Ctrl-C reaches only the supervisor, which then
            # stops each group as a whole (runserver's reloader child, Celery's pool processes).
            process_group=0,
            preexec_fn=_die_with_parent,
        )
        stream = self.process.stdout
        assert stream is not None
        self.reader = threading.Thread(target=self._pump, args=(stream, write), daemon=True)
        self.reader.start()

    def _pump(self, stream: IO[bytes], write: Callable[[str, str], None]) -> None:
        for raw in iter(stream.readline, b""):
            write(self.name, raw.decode("utf-8", "replace").rstrip("\n"))

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signum)

    def request_stop(self) -> None:
        if self.stop_whole_group:
            self.signal_group(signal.SIGTERM)
        elif self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)


class Supervisor:
    def __init__(self, programs: Sequence[Program], *, url: str, port: int) -> None:
        self.programs = list(programs)
        self.url = url
        self.port = port
        self.stop = threading.Event()
        self.stop_reason = ""
        self._lock = threading.Lock()
        self._width = max(len(p.name) for p in programs)
        colours = ["36", "33", "35", "32"]
        tty = sys.stdout.isatty() and os.environ.get("NO_COLOR") is None
        self._colour = {p.name: colours[i % len(colours)] if tty else "" for i, p in enumerate(programs)}

    def write(self, name: str, line: str) -> None:
        label = f"{name:<{self._width}} |"
        colour = self._colour.get(name, "")
        if colour:
            label = f"\033[{colour}m{label}\033[0m"
        with self._lock:
            sys.stdout.write(f"{label} {line}\n")
            sys.stdout.flush()

    def say(self, text: str) -> None:
        with self._lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stop.is_set():
            self.stop_reason = signal.Signals(signum).name
        self.stop.set()

    def _announce_when_ready(self) -> None:
        deadline = time.monotonic() + 120
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                self.stop.wait(0.5)
        else:
            return
        bar = "=" * 72
        self.say(
            f"\n{bar}\n  Root break-glass portal: {self.url}\n"
            "  Demo logins: see the seed_demo output above (TOTP code: make totp USER=<username>).\n"
            "  Running: web (runserver), worker (celery worker), beat (celery beat).\n"
            f"  Press Ctrl-C to stop all three.\n{bar}\n"
        )

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        failed: Program | None = None
        try:
            for program in self.programs:
                program.start(self.write)
            threading.Thread(target=self._announce_when_ready, daemon=True).start()
            while not self.stop.is_set():
                for program in self.programs:
                    if not program.running():
                        failed = program
                        self.stop.set()
                        break
                self.stop.wait(0.25)
        finally:
            self.shutdown()
        if failed is not None and not self.stop_reason:
            assert failed.process is not None
            self.say(f"{failed.name} exited with status {failed.process.returncode}; stopped the others.")
            return 1
        return 0

    def shutdown(self) -> None:
        started = [p for p in self.programs if p.process is not None]
        if self.stop_reason:
            self.say(f"\n{self.stop_reason}: stopping {', '.join(p.name for p in started)} ...")
        # SIGTERM is a warm shutdown for Celery (running tasks finish) and ends runserver at once.
        for program in started:
            if program.running():
                program.request_stop()
        deadline = time.monotonic() + STOP_TIMEOUT
        for program in started:
            assert program.process is not None
            try:
                program.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{program.name} did not stop within {STOP_TIMEOUT:.0f}s; killing it.")
        # Whatever is left in a group (the leader that did not stop, or a child that outlived it)
        # is killed, so no process outlives `make run`.
        for program in started:
            if program.group_alive():
                program.signal_group(signal.SIGKILL)
            assert program.process is not None
            if program.process.poll() is None:
                program.process.wait()
            if program.reader is not None:
                program.reader.join(timeout=2)
        if self.stop_reason:
            self.say("All stopped.")


def port_in_use(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def serve(host: str, port: int, reload: bool) -> int:
    load_dev_env(DEV_ENV, port=port, host=host)
    if port_in_use(host, port):
        sys.exit(f"{host}:{port} is already in use: stop what runs there, or use `make run PORT=<other>`.")
    python = sys.executable
    runserver = [python, "manage.py", "runserver", f"{host}:{port}"]
    if not reload:
        runserver.append("--noreload")
    programs = [
        Program("web", runserver),
        Program(
            "worker",
            [python, "-m", "celery", "-A", "portal", "worker", "--loglevel", "INFO"],
            stop_whole_group=False,
        ),
        Program(
            "beat",
            [python, "-m", "celery", "-A", "portal", "beat", "--loglevel", "INFO"],
            stop_whole_group=False,
        ),
    ]
    database = os.environ.get("DATABASE_URL") or "SQLite in var/portal.sqlite3"
    broker = os.environ.get("CELERY_BROKER_URL") or "the file system transport in var/celery"
    print(f"Database: {_redact(database)}; Celery broker: {_redact(broker)}", flush=True)
    return Supervisor(programs, url=base_url(host, port) + "/", port=port).run()


def _redact(url: str) -> str:
    """Hide a password in ``scheme://user:password@host``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init-env", help="write var/dev.env unless it exists")
    init.add_argument("--path", type=Path, default=DEV_ENV)
    execute = commands.add_parser("exec", help="run a command with var/dev.env loaded")
    execute.add_argument("--port", type=int, help="the port `serve` uses (for PORTAL_BASE_URL)")
    execute.add_argument("argv", nargs=argparse.REMAINDER)
    run = commands.add_parser("serve", help="run web, worker and beat until Ctrl-C")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--noreload", action="store_true", help="do not restart runserver on code changes")
    args = parser.parse_args(argv)

    if args.command == "init-env":
        init_env(args.path.resolve())
        return 0
    if args.command == "exec":
        command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        if not command:
            parser.error("exec needs a command")
        load_dev_env(DEV_ENV, port=args.port)
        os.chdir(ROOT)
        os.execvp(command[0], command)
    return serve(args.host, args.port, reload=not args.noreload)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
