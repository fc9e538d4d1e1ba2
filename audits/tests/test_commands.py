"""``ingest_cloudtrail`` and ``export_report``: summaries, exit statuses, export shapes, the ledger."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audits.reports import FINDING_COLUMNS
from audits.tests.cloudtrail.support import write_delivery
from audits.tests.findings_support import (
    UNKNOWN_ACCOUNT_ID,
    checkout,
    hours_ago,
    make_account,
    root_call,
    root_login,
)
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def run_command(*args: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), str(error)
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    old = hours_ago(50)
    write_delivery(
        folder / "a.json.gz",
        [root_call(when=old, event_id="old-2"), root_call(when=old - timedelta(minutes=1), event_id="old-1")],
    )
    write_delivery(folder / "b.json", [root_login(when=hours_ago(2), mfa="No", event_id="nomfa")])
    write_delivery(
        folder / "c.json", [root_call(when=hours_ago(1), account=UNKNOWN_ACCOUNT_ID, event_id="u")]
    )
    return folder


# --- ingest_cloudtrail ---------------------------------------------------------------------------------


def test_ingest_cloudtrail_exits_0_and_prints_a_summary_when_every_file_was_read(logs: Path) -> None:
    status, out, _ = run_command("ingest_cloudtrail", str(logs))

    assert status == 0
    assert "succeeded" in out
    assert "Files read:      3" in out
    assert "Files rejected:  0" in out
    assert "Records read:    4" in out
    assert "Root records:    4" in out
    assert "Findings raised: 4" in out


def test_ingest_cloudtrail_exits_1_naming_the_rejected_file_and_keeps_the_others(logs: Path) -> None:
    (logs / "broken.json").write_text('{"Records": [{"eventVersion": ')

    status, out, error = run_command("ingest_cloudtrail", str(logs), str(logs / "missing.json"))

    assert status == 1
    assert "2 file(s) rejected" in error
    assert "Files rejected:  2" in out
    assert "broken.json: " in out
    assert "missing.json: " in out
    assert "Root records:    4" in out


def test_ingest_cloudtrail_needs_a_path() -> None:
    with pytest.raises(CommandError):
        call_command("ingest_cloudtrail")


# --- export_report -------------------------------------------------------------------------------------


@pytest.fixture
def findings(logs: Path, requester: Any, approver: Any, custodian: Any) -> None:
    account = make_account(approver, custodian)
    out = hours_ago(2) - timedelta(minutes=10)
    checkout(requester, account, approver, out_at=out, checked_in_at=out + timedelta(minutes=30))
    run_command("ingest_cloudtrail", str(logs))


def test_the_json_export_lists_every_finding_oldest_first(findings: None) -> None:
    status, out, _ = run_command("export_report", "findings", "--format", "json")

    assert status == 0
    rows = json.loads(out)
    assert [row["kind"] for row in rows] == [
        "unapproved_root_usage",
        "root_login_without_mfa",
        "unapproved_root_usage",
    ]
    assert [row["first_seen"] for row in rows] == sorted(row["first_seen"] for row in rows)
    first, nomfa, unknown = rows
    assert set(FINDING_COLUMNS) <= set(first)
    assert first["event_ids"] == ["old-1", "old-2"]
    assert first["severity"] == "critical"
    assert first["status"] == "open"
    assert first["account_id"] == "123456789012"
    assert first["session"] is None
    assert first["first_seen"].endswith("Z")
    assert first["last_seen"] > first["first_seen"]
    assert nomfa["session"].startswith("BG-")
    assert nomfa["event_ids"] == ["nomfa"]
    assert unknown["account_id"] == UNKNOWN_ACCOUNT_ID
    assert unknown["account_name"] is None
    assert "not in the portal's inventory" in unknown["summary"]


def test_the_csv_export_has_the_same_columns_and_joins_event_ids_with_spaces(
    findings: None, tmp_path: Path
) -> None:
    target = tmp_path / "findings.csv"

    status, _, message = run_command("export_report", "findings", "--format", "csv", "--output", str(target))

    assert status == 0
    assert "3 finding(s) written" in message
    rows = list(csv.DictReader(target.open(newline="")))
    assert tuple(rows[0]) == FINDING_COLUMNS
    assert rows[0]["event_ids"] == "old-1 old-2"
    assert rows[0]["session"] == ""
    assert rows[1]["session"].startswith("BG-")
    assert [row["kind"] for row in rows] == [
        "unapproved_root_usage",
        "root_login_without_mfa",
        "unapproved_root_usage",
    ]


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(tmp_path: Path) -> None:
    write_delivery(tmp_path / "evil.json", [root_call(when=hours_ago(1), event_id='=HYPERLINK("x")')])
    run_command("ingest_cloudtrail", str(tmp_path / "evil.json"))
    target = tmp_path / "out.csv"

    run_command("export_report", "findings", "--format", "csv", "--output", str(target))

    assert next(csv.DictReader(target.open(newline="")))["event_ids"] == '\'=HYPERLINK("x")'


def test_every_export_is_recorded_in_the_ledger(findings: None, tmp_path: Path) -> None:
    run_command("export_report", "findings", "--format", "csv", "--output", str(tmp_path / "f.csv"))
    run_command("export_report", "findings")

    entries = list(LedgerEntry.objects.filter(action="report.exported").order_by("sequence"))
    assert [(e.data["format"], e.data["count"], e.actor_name) for e in entries] == [
        ("csv", 3, "system"),
        ("json", 3, "system"),
    ]


def test_an_export_of_nothing_is_an_empty_list(db: Any) -> None:
    status, out, _ = run_command("export_report", "findings")

    assert (status, json.loads(out)) == (0, [])


def test_export_report_refuses_an_unknown_report_or_format() -> None:
    with pytest.raises(CommandError):
        call_command("export_report", "nonesuch")
    with pytest.raises(CommandError):
        call_command("export_report", "findings", "--format", "xlsx")
    with pytest.raises(CommandError, match="needs --output"):
        call_command("export_report", "findings", "--format", "pdf")
