"""The retention settings: a year at least, parsed strictly, or start-up stops naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.tests.settings_support import IMPORT_SETTINGS, PRODUCTION_ENV, run_python


def test_the_defaults_keep_operational_rows_400_days(tmp_path: Path) -> None:
    code = """
        from django.conf import settings
        print(settings.PORTAL_RETENTION_NOTIFICATION_DAYS, settings.PORTAL_RETENTION_RUN_DAYS)
    """
    result = run_python(code, PRODUCTION_ENV, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["400", "400"]


@pytest.mark.parametrize("name", ["PORTAL_RETENTION_NOTIFICATION_DAYS", "PORTAL_RETENTION_RUN_DAYS"])
def test_less_than_a_year_stops_start_up(name: str, tmp_path: Path) -> None:
    result = run_python(IMPORT_SETTINGS, {**PRODUCTION_ENV, name: "364"}, tmp_path)

    assert result.returncode != 0
    assert f"ConfigurationError: {name} must be at least 365; got 364" in result.stderr


@pytest.mark.parametrize("name", ["PORTAL_RETENTION_NOTIFICATION_DAYS", "PORTAL_RETENTION_RUN_DAYS"])
def test_a_value_that_is_not_a_number_stops_start_up(name: str, tmp_path: Path) -> None:
    result = run_python(IMPORT_SETTINGS, {**PRODUCTION_ENV, name: "forever"}, tmp_path)

    assert result.returncode != 0
    assert f"ConfigurationError: {name} must be an integer; got 'forever'" in result.stderr


def test_a_year_or_more_is_accepted(tmp_path: Path) -> None:
    env = {**PRODUCTION_ENV, "PORTAL_RETENTION_NOTIFICATION_DAYS": "365", "PORTAL_RETENTION_RUN_DAYS": "3650"}
    code = """
        from django.conf import settings
        print(settings.PORTAL_RETENTION_NOTIFICATION_DAYS, settings.PORTAL_RETENTION_RUN_DAYS)
    """
    result = run_python(code, env, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["365", "3650"]
