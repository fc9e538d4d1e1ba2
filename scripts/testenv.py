#!/usr/bin/env python3
"""Runs the portal's checks and tests in a known environment, on PostgreSQL and Redis.

    testenv.py test [PYTEST ARGS...]  ruff check, ruff format --check, mypy, cfn-lint,
                                      makemigrations --check, then pytest on PostgreSQL and Redis
                                      (``make test``)
    testenv.py lint                   the first four only, no services (``make lint``)
    testenv.py run -- CMD ...         any command with the services and variables of ``test``
    testenv.py deploy-check           ``manage.py check --deploy --fail-level WARNING`` with a
                                      production-like configuration (``make check-deploy``)

Where the services come from (``scripts/testservices.py`` finds or starts them), in this order:

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
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from devenv import (
    ROOT,
    new_encryption_keys,
    new_evidence_signing_key,
    new_ledger_keys,
    new_ledger_signing_key,
    new_secret_key,
)
from testservices import EnvironmentProblem, choose_postgres, choose_redis, log, truthy

# Variables the tests must not inherit from a developer's shell (they change settings).
INHERITED_PREFIXES = ("DJANGO_", "PORTAL_", "CELERY_")
KEEP = {"PORTAL_TEST_PRIVATE_SERVICES", "PORTAL_CHROMIUM"}


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP arrived."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


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


IDP_DIR = ROOT / "breakglass" / "tests" / "idp"


def identity_provider_steps(notes: list[str]) -> list[tuple[str, list[str]]]:
    """``npm ci`` of the identity providers the single sign-on tests run (oidc-provider, samlp),
    into breakglass/tests/idp/node_modules, unless that install is newer than the lock file."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        what = "fail (CI must run them)" if truthy("CI") else "be skipped"
        notes.append(
            f"Node.js or npm is missing: the single sign-on tests will {what} (apt-get install nodejs npm)"
        )
        return []
    installed = IDP_DIR / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= (IDP_DIR / "package-lock.json").stat().st_mtime:
        return []
    command = [npm, "ci", "--prefix", str(IDP_DIR), "--no-audit", "--no-fund", "--loglevel=error"]
    return [("npm ci (test identity providers)", command)]


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


#: cfn-lint has no ``python -m`` entry point; this is what its console script runs.
CFN_LINT = "import sys; from cfnlint.runner import main; sys.exit(main())"


def lint_steps() -> list[tuple[str, list[str]]]:
    python = sys.executable
    return [
        ("ruff check .", [python, "-m", "ruff", "check", "."]),
        ("ruff format --check .", [python, "-m", "ruff", "format", "--check", "."]),
        ("mypy .", [python, "-m", "mypy", "."]),
        # The AWS-side kit (deploy/aws/); cfn-lint expands the glob itself.
        ("cfn-lint deploy/aws/*.yaml", [python, "-c", CFN_LINT, "deploy/aws/*.yaml"]),
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
            *identity_provider_steps(test_env.notes),
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
    commands.add_parser("lint", help="ruff check, ruff format --check, mypy, cfn-lint")
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
