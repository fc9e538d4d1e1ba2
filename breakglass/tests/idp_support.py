"""Real identity providers for the single sign-on tests, run with Node.js from breakglass/tests/idp/.

The OpenID provider is the certified ``oidc-provider`` package, the SAML one is ``samlp`` (Auth0's
SAML 2.0 identity-provider middleware); both are pinned in ``idp/package-lock.json`` and installed
with ``npm ci`` into ``idp/node_modules`` (ignored by git) by ``scripts/testenv.py`` and ``.ci/run``.
If they are missing, :func:`node_packages` installs them once (under a file lock, for xdist).

Without Node.js on the machine the tests are skipped, saying why; under CI (``CI=true``) they
fail instead, because there they must run.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

IDP_DIR = Path(__file__).resolve().parent / "idp"
MODULES = IDP_DIR / "node_modules"
# npm ci writes this last: its presence (newer than the lock file) means a complete install.
INSTALLED_STAMP = MODULES / ".package-lock.json"


def node_or_skip() -> str:
    """The path of ``node``, or skip (fail under CI) with the reason."""
    node = shutil.which("node")
    if node is None:
        reason = (
            "Node.js is not installed: the single sign-on tests run real identity providers "
            "(apt-get install nodejs npm)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; CI must run them")
        pytest.skip(reason)
    return node


def node_packages() -> None:
    """Make sure ``npm ci`` has installed the identity providers' packages."""
    lock_file = IDP_DIR / "package-lock.json"
    with open(IDP_DIR / ".npm-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if INSTALLED_STAMP.exists() and INSTALLED_STAMP.stat().st_mtime >= lock_file.stat().st_mtime:
            return
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is missing but Node.js is installed: apt-get install npm")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=IDP_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci in {IDP_DIR} failed:\n{done.stdout}\n{done.stderr}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class IdentityProvider:
    """A running provider: where it is, and the people file it reads at every sign-in."""

    url: str
    people_file: Path
    process: subprocess.Popen[str]

    def set_people(self, people: dict[str, dict[str, Any]]) -> None:
        self.people_file.write_text(json.dumps(people))


@contextmanager
def run_provider(
    script: str, args: list[str], people_file: Path, log_file: Path
) -> Iterator[IdentityProvider]:
    """Start ``node <script> <args>`` and wait for its ``ready <url>`` line; stop it afterwards."""
    node = node_or_skip()
    node_packages()
    if not people_file.exists():
        people_file.write_text("{}")
    with open(log_file, "w+") as log:
        process = subprocess.Popen(
            [node, str(IDP_DIR / script), *args],
            cwd=IDP_DIR,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            assert process.stdout is not None
            deadline = time.monotonic() + 30
            line = ""
            while time.monotonic() < deadline:
                line = process.stdout.readline()
                if line.startswith("ready ") or process.poll() is not None:
                    break
            if not line.startswith("ready "):
                log.seek(0)
                pytest.fail(f"{script} did not start: {line!r}\n{log.read()}")
            yield IdentityProvider(url=line.split()[1], people_file=people_file, process=process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
