"""The access-review report: each item of a campaign with its reviewers, decision, who and when, and
what is outstanding; from the campaign page (CSV, JSON, PDF through a job) and the command."""

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

from audits.reports import REPORTS, ReportFilter
from audits.tests.reports.jobs_support import download, eager_jobs, start_job  # noqa: F401 (fixture)
from breakglass import reviews
from breakglass.choices import ReviewDecision
from breakglass.tests.conftest import account  # noqa: F401 (fixtures)
from breakglass.tests.reviews.conftest import campaign, grant, item_of, reviewed_account, safe_device  # noqa: F401
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(campaign: Any, requester: Any, approver: Any) -> Any:  # noqa: F811
    """The requester's grant kept by an approver; everything else still outstanding."""
    item = item_of(campaign, "grant", requester)
    reviews.review_item_decide(
        item=item, reviewer=approver, decision=ReviewDecision.KEEP, note="still on call"
    )
    return campaign


def test_rows_name_reviewers_decisions_and_what_is_outstanding(
    decided: Any, auditor: Any, requester: Any, approver: Any, second_approver: Any, custodian: Any
) -> None:
    rows = list(REPORTS["reviews"].rows(user=auditor, filters=ReportFilter(campaign=str(decided.uuid))))

    by_subject = {(row["subject"], row["person"]): row for row in rows}
    kept = by_subject[("grant", requester.get_username())]
    assert kept["decision"] == "keep"
    assert kept["decided_by"] == approver.get_username()
    assert kept["decided_at"]
    assert kept["note"] == "still on call"
    assert kept["outstanding"] is False
    assert kept["reviewers"] == sorted([approver.get_username(), second_approver.get_username()])
    assert kept["account_id"] == "123456789012"
    device = next(row for row in rows if row["subject"] == "device")
    assert device["device"] == "YK-0042 (YubiKey Payments)"
    assert device["reviewers"] == [custodian.get_username()]
    assert device["outstanding"] is True
    # An approver's own assignment is reviewed by the other approver only.
    own = by_subject[("approver", approver.get_username())]
    assert own["reviewers"] == [second_approver.get_username()]
    outstanding = list(REPORTS["reviews"].rows(user=auditor, filters=ReportFilter(status="outstanding")))
    assert len(outstanding) == len(rows) - 1
    assert REPORTS["reviews"].count(user=auditor, filters=None) == len(rows)


def test_the_campaign_page_exports_its_report(
    client: Client,
    decided: Any,
    auditor: Any,
    eager_jobs: Path,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(auditor)
    page = client.get(reverse("breakglass:review_campaign_detail", args=[decided.uuid])).content.decode()
    csv_url = f"{reverse('audits:report_export', args=['reviews', 'csv'])}?campaign={decided.uuid}"
    assert csv_url in page
    assert reverse("audits:export_job_start", args=["reviews", "pdf"]) in page

    response = client.get(csv_url)
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    job = start_job(
        client,
        django_capture_on_commit_callbacks,
        reverse("audits:export_job_start", args=["reviews", "pdf"]),
        {"campaign": str(decided.uuid)},
    )

    assert {row["campaign"] for row in rows} == {str(decided.uuid)}
    assert "still on call" in {row["note"] for row in rows}
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(download(client, job))).pages)
    assert "Access reviews" in text
    assert "still on call" in " ".join(text.split())  # a narrow column wraps it
    exported = LedgerEntry.objects.filter(action="report.exported", data__report="reviews")
    assert exported.count() == 2
    assert exported.first().data["filters"]["campaign"] == str(decided.uuid)


def test_the_command_exports_the_reviews_report(decided: Any, tmp_path: Path) -> None:
    output = tmp_path / "reviews.json"

    call_command(
        "export_report",
        "reviews",
        "--format",
        "json",
        "--campaign",
        str(decided.uuid),
        "--output",
        str(output),
    )

    rows = json.loads(output.read_text())
    assert rows
    assert {row["campaign"] for row in rows} == {str(decided.uuid)}
    assert sum(1 for row in rows if row["outstanding"]) == len(rows) - 1
