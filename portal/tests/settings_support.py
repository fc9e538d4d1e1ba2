"""Importing the settings in a fresh interpreter with a clean environment.

Settings are read once per process, so a test of how they read the environment runs them in a
child process where the test run's own configuration cannot leak in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

IMPORT_SETTINGS = "import portal.settings"

#: The least a production configuration needs to start (values are made up, never real keys).
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 60,
    "PORTAL_ENCRYPTION_KEYS": "k20260101:" + "A" * 43 + "=",
    "PORTAL_LEDGER_KEYS": "l20260101:" + "B" * 43 + "=",
    "PORTAL_LEDGER_SIGNING_KEY": "s20260101:" + "C" * 43 + "=",
    "PORTAL_LEDGER_ANCHOR": "s3://ledger-anchor/checkpoints",
    "PORTAL_EVIDENCE_SIGNING_KEY": "e20260101:" + "D" * 43 + "=",
}


def run_python(
    code: str, env: dict[str, str], tmp_path: Path, *, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
