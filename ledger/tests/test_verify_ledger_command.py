"""``manage.py verify_ledger`` and the hourly Celery task that runs the same check."""

from __future__ import annotations

import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ledger import services, tasks
from ledger.management.commands.verify_ledger import Command
from ledger.models import LedgerEntry
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def record_several(count: int) -> None:
    for n in range(1, count + 1):
        services.record(actor=None, action=f"test.step_{n}", data={"n": n})


def break_entry(sequence: int) -> None:
    """Edit an entry behind the triggers' back, as a database superuser could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(
                f"UPDATE {LedgerEntry._meta.db_table} SET action = 'test.forged' WHERE sequence = %s",
                [sequence],
            )
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("RESET session_replication_role")


def test_the_command_reports_an_intact_ledger_and_how_many_entries_it_checked() -> None:
    record_several(3)
    out = StringIO()

    call_command("verify_ledger", stdout=out)

    assert "Ledger intact: 3 entries" in out.getvalue()


def test_the_command_accepts_an_empty_ledger() -> None:
    out = StringIO()

    call_command("verify_ledger", stdout=out)

    assert "Ledger intact: 0 entries" in out.getvalue()


def test_the_command_names_the_first_broken_entry() -> None:
    record_several(4)
    break_entry(2)

    with pytest.raises(CommandError, match=r"#2") as raised:
        call_command("verify_ledger")

    assert raised.value.returncode == 1


def test_from_the_shell_a_broken_ledger_exits_1_with_the_reason_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    record_several(4)
    break_entry(3)

    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "verify_ledger"])

    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert "#3" in captured.err
    assert "edited" in captured.err
    assert "intact" not in captured.out


def test_the_command_has_help() -> None:
    assert "hash chain" in Command.help


def test_the_task_returns_true_for_an_intact_ledger() -> None:
    record_several(2)

    assert tasks.verify_ledger() is True


def test_the_task_returns_false_and_logs_critically_for_a_broken_ledger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record_several(3)
    break_entry(1)

    with caplog.at_level(logging.CRITICAL, logger="ledger.tasks"):
        assert tasks.verify_ledger() is False

    assert any(r.levelno == logging.CRITICAL and "#1" in r.getMessage() for r in caplog.records)


def test_the_task_has_a_stable_name_and_beat_runs_it_hourly() -> None:
    schedule = {entry["task"]: entry["schedule"] for entry in celery_app.conf.beat_schedule.values()}

    assert tasks.verify_ledger.name == "ledger.tasks.verify_ledger"
    assert schedule[tasks.verify_ledger.name] == 3600.0
    assert tasks.verify_ledger.name in celery_app.tasks
