"""Findings, root events and ingestion runs through the API: the findings page's filters by the same
names, the selectors' visibility, triage through the service, and reports through the export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from api.choices import Scope
from api.tests.conftest import ApiClient
from audits import selectors
from audits.choices import FindingKind, FindingStatus, RunStatus, Severity, SourceKind
from audits.models import Finding, IngestionRun
from audits.tests.findings_support import UNKNOWN_ACCOUNT_ID, hours_ago
from audits.tests.views.support import make_event, make_finding
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

FINDINGS = "/api/v1/findings"


def _codes(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["code"] for item in response.json()["items"]}


@pytest.fixture
def findings(account: Any) -> dict[str, Finding]:
    return {
        "critical": make_finding(account=account),
        "failed_login": make_finding(
            account=account, kind=FindingKind.ROOT_LOGIN_FAILED, severity=Severity.MEDIUM, when=hours_ago(72)
        ),
        "resolved": make_finding(account=account, status=FindingStatus.RESOLVED),
        "unknown_account": make_finding(account_id=UNKNOWN_ACCOUNT_ID),
    }


@pytest.mark.parametrize("persona", ["approver", "custodian", "auditor", "administrator"])
def test_each_persona_sees_through_the_api_exactly_the_findings_of_the_page(
    persona: str,
    request: pytest.FixtureRequest,
    findings: dict[str, Finding],
    api_as: Callable[..., ApiClient],
) -> None:
    user = request.getfixturevalue(persona)
    seen = _codes(api_as(user, Scope.READ_FINDINGS).get(FINDINGS))
    assert seen == {finding.code for finding in selectors.findings_visible_to(user=user)}
    assert (findings["unknown_account"].code in seen) == (persona in ("auditor", "administrator"))


def test_a_requester_may_not_read_findings_at_all(requester: Any, api_as: Callable[..., ApiClient]) -> None:
    # A requester cannot even put the scope on a token; one made before losing a role is refused.
    response = api_as(requester, Scope.READ_INVENTORY).get(FINDINGS)
    assert response.status_code == 403
    assert "read:findings" in response.json()["detail"]


def test_the_findings_filters_are_the_pages_own(
    auditor: Any, findings: dict[str, Finding], api_as: Callable[..., ApiClient]
) -> None:
    client = api_as(auditor, Scope.READ_FINDINGS)
    assert _codes(client.get(FINDINGS, {"kind": "root_login_failed"})) == {findings["failed_login"].code}
    assert _codes(client.get(FINDINGS, {"status": "resolved"})) == {findings["resolved"].code}
    assert _codes(client.get(FINDINGS, {"account": UNKNOWN_ACCOUNT_ID})) == {findings["unknown_account"].code}
    since = hours_ago(24).date().isoformat()
    assert findings["failed_login"].code not in _codes(client.get(FINDINGS, {"since": since}))
    assert _codes(client.get(FINDINGS, {"account": UNKNOWN_ACCOUNT_ID[:5]})) == {
        findings["unknown_account"].code
    }


def test_findings_are_paged_by_cursor_newest_first_without_repeats_or_gaps(
    auditor: Any, findings: dict[str, Finding], api_as: Callable[..., ApiClient]
) -> None:
    client = api_as(auditor, Scope.READ_FINDINGS)
    seen: list[str] = []
    cursor = ""
    for _ in range(len(findings)):
        body = client.get(FINDINGS, {"limit": 2, "cursor": cursor}).json()
        assert len(body["items"]) <= 2
        seen += [item["code"] for item in body["items"]]
        if body["next"] is None:
            break
        cursor = body["next"]
    newest_first = Finding.objects.order_by("-last_seen", "-id").values_list("code", flat=True)
    assert seen == list(newest_first)
    # A cursor that cannot be read is the first page, as on the pages.
    assert client.get(FINDINGS, {"limit": 2, "cursor": "not-a-cursor"}).json()["items"][0]["code"] == seen[0]


def test_a_finding_added_while_a_client_pages_is_not_repeated_and_shifts_nothing(
    auditor: Any, findings: dict[str, Finding], api_as: Callable[..., ApiClient]
) -> None:
    client = api_as(auditor, Scope.READ_FINDINGS)
    first = client.get(FINDINGS, {"limit": 2}).json()
    make_finding(
        kind="root_login_failed", when=hours_ago(0)
    )  # newer than everything: would shift an OFFSET page by one
    second = client.get(FINDINGS, {"limit": 2, "cursor": first["next"]}).json()
    order = list(Finding.objects.order_by("-last_seen", "-id").values_list("code", flat=True))
    expected = order[order.index(first["items"][-1]["code"]) + 1 :][:2]
    assert [item["code"] for item in second["items"]] == expected


def test_a_bad_filter_is_a_400_where_the_page_would_ignore_it(
    auditor: Any, api_as: Callable[..., ApiClient]
) -> None:
    response = api_as(auditor, Scope.READ_FINDINGS).get(
        FINDINGS, {"severity": "apocalyptic", "account": "x" * 101}
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == {"severity", "account"}


def test_a_finding_reads_with_its_events_and_an_unseen_one_is_not_found(
    approver: Any, findings: dict[str, Finding], api_as: Callable[..., ApiClient]
) -> None:
    client = api_as(approver, Scope.READ_FINDINGS)
    finding = findings["critical"]
    body = client.get(f"{FINDINGS}/{finding.uuid}").json()
    assert body["code"] == finding.code
    assert [event["event_id"] for event in body["events"]] == body["event_ids"]
    assert body["account"]["account_id"] == "123456789012"
    assert client.get(f"{FINDINGS}/{findings['unknown_account'].uuid}").status_code == 404


def test_an_auditor_triages_through_the_service_and_the_token_use_is_in_the_ledger(
    auditor: Any, findings: dict[str, Finding], api_as: Callable[..., ApiClient]
) -> None:
    finding = findings["critical"]
    client = api_as(auditor, Scope.TRIAGE_FINDINGS)
    response = client.post(
        f"{FINDINGS}/{finding.uuid}/triage",
        {"status": "acknowledged", "note": "Looking into it with the owner."},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "acknowledged"
    assert response.json()["triaged_by"] == "audrey.auditor"
    triaged = LedgerEntry.objects.get(action="finding.triaged")
    used = LedgerEntry.objects.get(action="api_token.used")
    assert used.data["scope"] == "triage:findings"
    assert used.request_id == triaged.request_id

    short = client.post(f"{FINDINGS}/{finding.uuid}/triage", {"status": "resolved", "note": "ok"})
    assert short.status_code == 409
    assert "note" in short.json()["errors"]


def test_an_approver_cannot_triage_even_with_a_token_that_says_so(
    approver: Any, findings: dict[str, Finding], api_as: Callable[..., ApiClient], make_token: Any
) -> None:
    from api.models import ApiToken

    token = make_token(approver, Scope.READ_FINDINGS)
    ApiToken.objects.update(scopes=["read:findings", "triage:findings"])  # as if a role had been lost
    response = ApiClient(token).post(
        f"{FINDINGS}/{findings['critical'].uuid}/triage",
        {"status": "resolved", "note": "Nothing to see here."},
    )
    assert response.status_code == 403
    assert Finding.objects.get(pk=findings["critical"].pk).status == FindingStatus.OPEN


def test_root_events_are_those_the_persons_findings_pages_would_show(
    approver: Any, auditor: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    mine = make_event(account_id="123456789012")
    unknown = make_event(account_id=UNKNOWN_ACCOUNT_ID)
    seen = api_as(approver, Scope.READ_FINDINGS).get("/api/v1/root-events")
    assert {event["event_id"] for event in seen.json()["items"]} == {mine.event_id}
    everything = api_as(auditor, Scope.READ_FINDINGS).get(
        "/api/v1/root-events", {"account": UNKNOWN_ACCOUNT_ID}
    )
    assert {event["event_id"] for event in everything.json()["items"]} == {unknown.event_id}


def test_ingestion_runs_are_for_auditors_only(
    approver: Any, auditor: Any, api_as: Callable[..., ApiClient]
) -> None:
    run = IngestionRun.objects.create(kind=SourceKind.UPLOAD, status=RunStatus.SUCCEEDED, records_read=12)
    listed = api_as(auditor, Scope.READ_FINDINGS).get("/api/v1/ingestion-runs").json()["items"]
    assert [(item["uuid"], item["records_read"]) for item in listed] == [(str(run.uuid), 12)]
    assert api_as(auditor, Scope.READ_FINDINGS).get(f"/api/v1/ingestion-runs/{run.uuid}").status_code == 200
    assert api_as(approver, Scope.READ_FINDINGS).get("/api/v1/ingestion-runs").status_code == 403


def test_a_report_is_exported_like_on_the_reports_page_and_recorded_before_it_leaves(
    auditor: Any, findings: dict[str, Finding], api_as: Callable[..., ApiClient]
) -> None:
    client = api_as(auditor, Scope.EXPORT_REPORTS)
    assert {report["name"] for report in client.get("/api/v1/reports").json()} >= {"findings", "sessions"}
    response = client.get("/api/v1/reports/findings/csv", {"severity": "critical"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="findings-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row["code"] for row in rows} == {
        findings["critical"].code,
        findings["resolved"].code,
        findings["unknown_account"].code,
    }
    exported = LedgerEntry.objects.get(action="report.exported")
    assert exported.data["filters"] == {"severity": "critical"}
    assert LedgerEntry.objects.get(action="api_token.used").request_id == exported.request_id
    assert client.get("/api/v1/reports/nonsense/csv").status_code == 404
    assert client.get("/api/v1/reports/findings/csv", {"since": "yesterday"}).status_code == 400
