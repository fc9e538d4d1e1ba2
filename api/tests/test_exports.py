"""Export jobs through the API: start a report or an evidence bundle, poll it, download it; only the
person who started it sees it (issue 14, item 1: "reports and evidence bundles (start, poll,
download)")."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

from api.choices import Scope
from api.tests.conftest import ApiClient
from audits.tests.reports.jobs_support import eager_jobs  # noqa: F401 (fixture)
from audits.tests.views.support import make_finding
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def _start(client: ApiClient, capture: Callable[..., Any], body: dict[str, Any]) -> dict[str, Any]:
    with capture(execute=True):  # the job runs when its start commits (Celery eager here)
        response = client.post("/api/v1/exports", body)
    assert response.status_code == 202, response.content
    answer: dict[str, Any] = response.json()
    return answer


def test_a_report_export_is_started_polled_and_downloaded(
    auditor: Any,
    account: Any,
    api_as: Callable[..., ApiClient],
    eager_jobs: Any,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    finding = make_finding(account=account)
    client = api_as(auditor, Scope.EXPORT_REPORTS)

    started = _start(client, django_capture_on_commit_callbacks, {"report": "findings", "format": "csv"})
    polled = client.get(f"/api/v1/exports/{started['uuid']}").json()
    assert polled["status"] == "done"
    assert polled["sha256"]
    file = client.get(polled["download"])

    assert file.status_code == 200
    assert finding.code in b"".join(file.streaming_content).decode()
    assert LedgerEntry.objects.filter(action="export.downloaded").exists()


def test_an_evidence_bundle_is_a_job_too(
    auditor: Any,
    account: Any,
    api_as: Callable[..., ApiClient],
    eager_jobs: Any,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = api_as(auditor, Scope.EXPORT_REPORTS)
    body = {"report": "evidence", "format": "zip", "since": "2026-01-01", "until": "2026-12-31"}

    started = _start(client, django_capture_on_commit_callbacks, body)
    polled = client.get(f"/api/v1/exports/{started['uuid']}").json()
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(client.get(polled["download"]).streaming_content)))

    assert "manifest.json" in bundle.namelist()


def test_another_persons_job_is_not_said_to_exist(
    auditor: Any,
    administrator: Any,
    account: Any,
    api_as: Callable[..., ApiClient],
    eager_jobs: Any,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    started = _start(
        api_as(auditor, Scope.EXPORT_REPORTS),
        django_capture_on_commit_callbacks,
        {"report": "ledger", "format": "json"},
    )
    other = api_as(administrator, Scope.EXPORT_REPORTS)
    assert other.get(f"/api/v1/exports/{started['uuid']}").status_code == 404
    assert other.get(f"/api/v1/exports/{started['uuid']}/download").status_code == 404


def test_a_bundle_without_a_whole_period_is_refused_in_words(
    auditor: Any,
    api_as: Callable[..., ApiClient],
    eager_jobs: Any,  # noqa: F811
) -> None:
    response = api_as(auditor, Scope.EXPORT_REPORTS).post(
        "/api/v1/exports", {"report": "evidence", "format": "zip"}
    )
    assert response.status_code == 409
    assert "period" in response.json()["detail"]
