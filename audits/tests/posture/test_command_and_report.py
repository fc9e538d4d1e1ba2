"""``check_posture`` and ``export_report posture``, against moto's server through ``AWS_ENDPOINT_URL``
(boto3 speaks real HTTP), as issue 10's "done when" asks: the command raises ``root_mfa_missing``
and ``alternate_contact_missing`` exactly where they hold, and the export lists them."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from audits.choices import FindingStatus
from audits.models import Finding
from audits.posture import aws
from audits.tests.posture_support import RootPostureStore, set_contacts
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

NO_MFA, NO_SECURITY, FINE = "222222222222", "333333333333", "444444444444"
ALL = ("BILLING", "OPERATIONS", "SECURITY")


@pytest.fixture
def organization_on_server(
    moto_server: str,
    root_posture: RootPostureStore,
    make_account: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> RootPostureStore:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setattr(aws, "MAX_ATTEMPTS", 1)
    monkeypatch.setattr(aws, "REPORT_POLL_SECONDS", 0.0)
    settings.PORTAL_AWS_MANAGEMENT_ROLE_ARN = None
    settings.PORTAL_AWS_REGION = "us-east-1"
    for account_id in (NO_MFA, NO_SECURITY, FINE):
        make_account(account_id)
    set_contacts(NO_MFA, *ALL)
    set_contacts(NO_SECURITY, "BILLING", "OPERATIONS")
    set_contacts(FINE, *ALL)
    root_posture.root(NO_MFA).mfa = False
    return root_posture


def run(*args: str) -> str:
    out = StringIO()
    call_command("check_posture", *args, stdout=out)
    return out.getvalue()


def test_check_posture_raises_exactly_where_the_conditions_hold(
    organization_on_server: RootPostureStore, tmp_path: Path
) -> None:
    output = run()
    open_findings = set(
        Finding.objects.filter(status=FindingStatus.OPEN).values_list("kind", "aws_account_id", "dedupe_key")
    )
    assert {(kind, account) for kind, account, _ in open_findings} == {
        ("root_mfa_missing", NO_MFA),
        # The registry holds a key for it that AWS does not see.
        ("root_mfa_registry_mismatch", NO_MFA),
        ("alternate_contact_missing", NO_SECURITY),
    }
    assert f"alternate_contact_missing:{NO_SECURITY}:SECURITY" in {key for *_, key in open_findings}
    assert "Accounts checked: 3; failing checks: 3; not checked: 0" in output
    assert f"{NO_MFA} " in output
    assert "fail  root_mfa" in output

    target = tmp_path / "posture.json"
    call_command("export_report", "posture", "--format", "json", "--output", str(target), stderr=StringIO())
    rows = json.loads(target.read_text())
    listed = {(row["kind"], row["account_id"], row["status"], row["contact_type"]) for row in rows}
    assert ("root_mfa_missing", NO_MFA, "open", None) in listed
    assert ("alternate_contact_missing", NO_SECURITY, "open", "SECURITY") in listed
    assert len(rows) == 3
    assert LedgerEntry.objects.filter(action="report.exported", target_id="posture").exists()


def test_a_second_run_changes_nothing_and_a_fix_resolves(organization_on_server: RootPostureStore) -> None:
    run()
    before = set(Finding.objects.values_list("code", "status"))
    output = run()
    assert set(Finding.objects.values_list("code", "status")) == before
    assert "findings" not in output
    set_contacts(NO_SECURITY, "SECURITY")
    run("--account", NO_SECURITY)
    assert Finding.objects.get(aws_account_id=NO_SECURITY).status == FindingStatus.RESOLVED


def test_the_command_exits_1_when_an_account_could_not_be_checked(
    organization_on_server: RootPostureStore,
) -> None:
    organization_on_server.fail("AssumeRole", FINE, "AccessDenied", "no such role")
    with pytest.raises(CommandError, match="1 account"):
        run()
    # The others were still checked.
    assert Finding.objects.filter(aws_account_id=NO_MFA, kind="root_mfa_missing").exists()


def test_the_command_refuses_an_account_not_in_the_inventory(
    organization_on_server: RootPostureStore,
) -> None:
    with pytest.raises(CommandError, match="not in the inventory: 999999999999"):
        run("--account", "999999999999")


def test_the_posture_export_in_csv_and_pdf(organization_on_server: RootPostureStore, tmp_path: Path) -> None:
    run()
    target = tmp_path / "posture.csv"
    call_command("export_report", "posture", "--format", "csv", "--output", str(target), stderr=StringIO())
    rows = list(csv.DictReader(target.open()))
    assert {row["contact_type"] for row in rows} == {"SECURITY", ""}
    pdf = tmp_path / "posture.pdf"
    call_command("export_report", "posture", "--format", "pdf", "--output", str(pdf), stderr=StringIO())
    assert pdf.read_bytes().startswith(b"%PDF")
