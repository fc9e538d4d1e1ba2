"""PORTAL_EVIDENCE_SIGNING_KEY is a strict setting like the ledger's keys: missing or malformed in
production stops start-up, naming the variable and never the key."""

from __future__ import annotations

import base64
from pathlib import Path

from portal.tests.settings_support import IMPORT_SETTINGS, PRODUCTION_ENV, run_python

VARIABLE = "PORTAL_EVIDENCE_SIGNING_KEY"


def test_production_does_not_start_without_the_evidence_signing_key(tmp_path: Path) -> None:
    env = {name: value for name, value in PRODUCTION_ENV.items() if name != VARIABLE}

    result = run_python(IMPORT_SETTINGS, env, tmp_path)

    assert result.returncode != 0
    assert f"ConfigurationError: {VARIABLE} must be set when DJANGO_DEBUG is false" in result.stderr


def test_a_malformed_evidence_key_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    short = base64.b64encode(b"k" * 16).decode()

    result = run_python(IMPORT_SETTINGS, {**PRODUCTION_ENV, VARIABLE: f"e1:{short}"}, tmp_path)

    assert result.returncode != 0
    assert f"ConfigurationError: {VARIABLE}:" in result.stderr
    assert short not in result.stderr


def test_production_starts_with_it(tmp_path: Path) -> None:
    result = run_python(IMPORT_SETTINGS, PRODUCTION_ENV, tmp_path)

    assert result.returncode == 0, result.stderr
