"""The ledger's keys and anchor are strict settings: missing or malformed in production stops start-up."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from portal.tests.settings_support import IMPORT_SETTINGS, run_python

KEY = base64.b64encode(b"k" * 32).decode()
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 60,
    "DJANGO_ALLOWED_HOSTS": "breakglass.example.com",
    "PORTAL_ENCRYPTION_KEYS": f"k1:{KEY}",
    "PORTAL_LEDGER_KEYS": f"l1:{KEY}",
    "PORTAL_LEDGER_SIGNING_KEY": f"s1:{KEY}",
    "PORTAL_LEDGER_ANCHOR": "s3://ledger-anchor/checkpoints",
    "PORTAL_EVIDENCE_SIGNING_KEY": f"e1:{KEY}",
}


@pytest.mark.parametrize(
    "variable", ["PORTAL_LEDGER_KEYS", "PORTAL_LEDGER_SIGNING_KEY", "PORTAL_LEDGER_ANCHOR"]
)
def test_production_does_not_start_without_the_ledger_settings(variable: str, tmp_path: Path) -> None:
    env = {name: value for name, value in PRODUCTION.items() if name != variable}

    result = run_python(IMPORT_SETTINGS, env, tmp_path)

    assert result.returncode != 0
    assert f"ConfigurationError: {variable} must be set when DJANGO_DEBUG is false" in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"l1:{base64.b64encode(b'short').decode()}", "is 5 bytes long"),
        ("l1:not*base64", "not valid base64"),
        (f"l1:{KEY},l1:{KEY}", "appears more than once"),
        (KEY, "no key id"),
    ],
    ids=["short", "bad-base64", "duplicate", "no-id"],
)
def test_a_malformed_ledger_key_stops_start_up_naming_the_variable_not_the_key(
    value: str, expected: str, tmp_path: Path
) -> None:
    result = run_python(IMPORT_SETTINGS, {**PRODUCTION, "PORTAL_LEDGER_KEYS": value}, tmp_path)

    assert result.returncode != 0
    assert "ConfigurationError: PORTAL_LEDGER_KEYS:" in result.stderr
    assert expected in result.stderr
    assert KEY not in result.stderr


def test_production_starts_with_them_and_development_defaults_the_anchor_under_var(tmp_path: Path) -> None:
    code = """
        from django.conf import settings
        print(settings.PORTAL_LEDGER_ANCHOR)
    """
    assert run_python(code, PRODUCTION, tmp_path).stdout.strip() == "s3://ledger-anchor/checkpoints"
    result = run_python(code, {"DJANGO_DEBUG": "true"}, tmp_path)
    assert result.stdout.strip() == str(tmp_path / "var" / "ledger-anchor")
