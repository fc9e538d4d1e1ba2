"""The reports page and the exports: who may, the ledger entry, CSV and JSON shapes, each PDF read
back, and the command for every report and format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from audits.reports import REPORTS
from audits.tests.reports.conftest import World
from audits.tests.reports.jobs_support import download, eager_jobs, start_job  # noqa: F401 (fixture)
from breakglass.tests.factories import AwsAccountFactory
from ledger.models import LedgerEntry

INDEX = reverse("audits:report_index")


def export_url(name: str, fmt: str) -> str:
    return reverse("audits:report_export", args=[name, fmt])


def prepare_url(name: str, fmt: str) -> str:
    return reverse("audits:export_job_start", args=[name, fmt])


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_reports_page_offers_every_report_in_every_format(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    page = client.get(INDEX).content.decode()

    for name in REPORTS:
        for fmt in ("csv", "json", "pdf"):
            assert prepare_url(name, fmt) in page
    assert f'href="{INDEX}"' in client.get(reverse("audits:finding_list")).content.decode()


def test_a_requester_may_neither_see_nor_export_reports(client: Client, requester: Any, world: World) -> None:
    client.force_login(requester)

    assert client.get(INDEX).status_code == 403
    assert client.get(export_url("sessions", "csv")).status_code == 403
    assert not LedgerEntry.objects.filter(action="report.exported").exists()


def test_an_export_is_in_the_ledger_with_its_filters(client: Client, auditor: Any, world: World) -> None:
    client.force_login(auditor)

    response = client.get(export_url("sessions", "json"), {"account": "123456789012", "since": "2020-01-01"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="sessions-')
    rows = json.loads(body(response))
    assert [row["code"] for row in rows] == [world.session.code]
    entry = LedgerEntry.objects.get(action="report.exported")
    assert entry.actor_id == auditor.pk
    assert entry.data["report"] == "sessions"
    assert entry.data["format"] == "json"
    assert entry.data["count"] == 1
    assert entry.data["filters"]["account_id"] == "123456789012"
    assert entry.data["filters"]["since"].startswith("2020-01-01")


@pytest.mark.parametrize("name", list(REPORTS))
def test_csv_and_json_have_the_report_columns(
    client: Client, administrator: Any, world: World, name: str
) -> None:
    client.force_login(administrator)

    as_csv = list(csv.DictReader(io.StringIO(body(client.get(export_url(name, "csv"))).decode())))
    as_json = json.loads(body(client.get(export_url(name, "json"))))

    assert as_json, name
    # The ledger holds one more entry by the second export: the first export's own.
    assert len(as_json) == len(as_csv) + (name == "ledger")
    assert all(tuple(row) == REPORTS[name].columns for row in as_csv)
    assert all(set(row) == set(REPORTS[name].columns) for row in as_json)


def test_the_findings_page_links_exports_with_its_filters(client: Client, auditor: Any, world: World) -> None:
    client.force_login(auditor)

    page = client.get(reverse("audits:finding_list"), {"severity": "critical"}).content.decode()

    assert f"{export_url('findings', 'csv')}?severity=critical" in page
    ledger_page = client.get(reverse("ledger:ledger_list")).content.decode()
    assert prepare_url("ledger", "pdf") in ledger_page


@pytest.mark.parametrize("name", list(REPORTS))
def test_each_pdf_reads_back_with_title_filters_a_row_and_page_numbers(
    client: Client,
    auditor: Any,
    world: World,
    settings: Any,
    name: str,
    eager_jobs: Path,  # noqa: F811 (the fixture imported above)
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.PORTAL_ORGANIZATION_NAME = "Example Payments Ltd"
    client.force_login(auditor)

    filters = {"account": "123456789012"} if name != "ledger" else {}
    job = start_job(client, django_capture_on_commit_callbacks, prepare_url(name, "pdf"), filters)

    assert job.status == "done"
    text = pdf_text(download(client, job))
    assert REPORTS[name].title in text
    assert "Example Payments Ltd" in text
    assert "Page 1 of" in text
    assert auditor.get_username() in text
    if name != "ledger":
        assert "account_id: 123456789012" in text
    first = next(iter(REPORTS[name].rows(user=auditor, filters=None)))
    value = {
        "sessions": first.get("code"),
        "activity": first.get("event_id"),
        "findings": first.get("code"),
        "access": first.get("account_name"),
        "reviews": first.get("subject"),
        "ledger": first.get("action"),
        "posture": first.get("code"),
    }[name]
    assert value
    assert value in text.replace("\n", ""), value


@pytest.mark.parametrize("fmt", ["csv", "json", "pdf"])
@pytest.mark.parametrize("name", list(REPORTS))
def test_the_command_exports_every_report_in_every_format(
    world: World, tmp_path: Path, name: str, fmt: str
) -> None:
    target = tmp_path / f"{name}.{fmt}"

    call_command(
        "export_report",
        name,
        "--format",
        fmt,
        "--since",
        "2020-01-01",
        "--account",
        "123456789012",
        "--output",
        str(target),
        stderr=io.StringIO(),
    )

    data = target.read_bytes()
    if fmt == "pdf":
        assert REPORTS[name].title in pdf_text(data)
    elif fmt == "json":
        assert isinstance(json.loads(data), list)
    else:
        assert data.decode().startswith(",".join(REPORTS[name].columns))
    entry = LedgerEntry.objects.filter(action="report.exported").latest("sequence")
    assert (entry.actor_name, entry.data["report"], entry.data["format"]) == ("system", name, fmt)


def test_the_command_exports_as_a_named_person(
    world: World, tmp_path: Path, requester: Any, auditor: Any
) -> None:
    out = io.StringIO()
    call_command("export_report", "sessions", "--as", requester.get_username(), stdout=out)
    assert json.loads(out.getvalue()) == []

    out = io.StringIO()
    call_command("export_report", "sessions", "--as", auditor.get_username(), stdout=out)
    assert len(json.loads(out.getvalue())) == 1
    assert LedgerEntry.objects.filter(action="report.exported").latest("sequence").actor_id == auditor.pk


def test_a_report_takes_an_account_by_its_name(client: Client, auditor: Any, world: World) -> None:
    client.force_login(auditor)

    response = client.get(export_url("sessions", "json"), {"account": world.account.name.upper()})

    assert [row["code"] for row in json.loads(body(response))] == [world.session.code]
    entry = LedgerEntry.objects.get(action="report.exported")
    assert entry.data["filters"]["account_id"] == world.account.account_id


@pytest.mark.parametrize("typed", ["no-such-account", ""])
def test_a_name_that_picks_no_single_account_exports_nothing_and_says_why(
    client: Client, auditor: Any, world: World, typed: str
) -> None:
    # "" stands for a search that several accounts match: a second account shares the first's name.
    if not typed:
        AwsAccountFactory(account_id="999988887777", name=f"{world.account.name}-copy")
        typed = world.account.name[:-1]
    client.force_login(auditor)

    streamed = client.get(export_url("sessions", "csv"), {"account": typed}, follow=True)
    prepared = client.post(prepare_url("sessions", "pdf"), {"account": typed}, follow=True)

    for response in (streamed, prepared):
        assert response.redirect_chain[-1][0].startswith(INDEX)
        assert "does not name exactly one account" in response.content.decode()
    assert not LedgerEntry.objects.filter(action="report.exported").exists()
