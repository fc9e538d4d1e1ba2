"""The evidence pages: findings (list, filters, paging, detail with raw records, triage), ingestion runs,
the log upload, and the root events shown on a check-out's page."""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.choices import FindingKind, FindingStatus, RunStatus, Severity, SourceKind
from audits.models import Finding, IngestionRun, IngestionSource, RootEvent
from audits.tests.findings_support import (
    ACCOUNT_ID,
    UNKNOWN_ACCOUNT_ID,
    checkout,
    hours_ago,
    ingest_records,
    make_account,
    root_call,
    root_login,
)
from breakglass.tests.factories import AwsAccountFactory
from ledger.models import LedgerEntry
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db

FINDINGS = reverse("audits:finding_list")
RUNS = reverse("audits:run_list")
UPLOAD = reverse("audits:log_upload")
OTHER_ACCOUNT_ID = "222233334444"


@pytest.fixture
def account(approver: Any, custodian: Any) -> Any:
    return make_account(approver, custodian)


def make_event(*, account_id: str = ACCOUNT_ID, when: datetime | None = None, **raw_extra: Any) -> RootEvent:
    when = when or hours_ago(2)
    event_id = str(uuid.uuid4())
    raw = root_call(when=when, account=account_id, event_id=event_id, **raw_extra)
    return RootEvent.objects.create(
        event_id=event_id,
        aws_account_id=account_id,
        region="us-east-1",
        event_time=when,
        event_name=raw["eventName"],
        event_source=raw["eventSource"],
        event_type="AwsApiCall",
        source_ip=raw["sourceIPAddress"],
        raw=raw,
    )


def make_finding(
    *,
    account: Any = None,
    account_id: str = ACCOUNT_ID,
    kind: str = FindingKind.UNAPPROVED_ROOT_USAGE,
    severity: str = Severity.CRITICAL,
    status: str = FindingStatus.OPEN,
    when: datetime | None = None,
    session: Any = None,
    events: int = 1,
    summary: str = "Root used without an approved check-out.",
) -> Finding:
    """A finding stored directly (reconciliation has its own tests); the pages only read it."""
    when = when or hours_ago(2)
    finding = Finding.objects.create(
        code=f"F-{uuid.uuid4().hex[:10].upper()}",
        kind=kind,
        severity=severity,
        status=status,
        dedupe_key=f"test:{uuid.uuid4()}",
        aws_account_id=account.account_id if account is not None else account_id,
        account=account,
        session=session,
        first_seen=when,
        last_seen=when,
        summary=summary,
    )
    finding.events.set([make_event(account_id=finding.aws_account_id, when=when) for _ in range(events)])
    return finding


def detail_url(finding: Finding) -> str:
    return reverse("audits:finding_detail", kwargs={"uuid": finding.uuid})


def triage_url(finding: Finding) -> str:
    return reverse("audits:finding_triage", kwargs={"uuid": finding.uuid})


def gz_delivery(records: list[dict[str, Any]]) -> bytes:
    return gzip.compress(json.dumps({"Records": records}).encode())


# --- URLs and who may enter ---------------------------------------------------------------------


def test_the_pages_live_under_audit() -> None:
    some = uuid.uuid4()
    assert FINDINGS == "/audit/findings/"
    assert reverse("audits:finding_detail", kwargs={"uuid": some}) == f"/audit/findings/{some}/"
    assert reverse("audits:finding_triage", kwargs={"uuid": some}) == f"/audit/findings/{some}/triage/"
    assert RUNS == "/audit/runs/"
    assert reverse("audits:run_detail", kwargs={"uuid": some}) == f"/audit/runs/{some}/"
    assert UPLOAD == "/audit/runs/upload/"


# Anonymous visitors and people without a role: portal/tests/test_url_guards.py, for every URL.


@pytest.mark.parametrize("url", [FINDINGS, RUNS, UPLOAD])
def test_requesters_are_refused(client: Client, requester: Any, url: str) -> None:
    make_finding(summary="secret summary")
    client.force_login(requester)

    response = client.get(url)

    assert response.status_code == 403
    assert b"secret summary" not in response.content


@pytest.mark.parametrize("persona", ["approver", "custodian"])
def test_approvers_and_custodians_may_not_see_runs_or_upload(
    client: Client, request: pytest.FixtureRequest, persona: str
) -> None:
    client.force_login(request.getfixturevalue(persona))

    assert client.get(RUNS).status_code == 403
    assert client.get(UPLOAD).status_code == 403


@pytest.mark.parametrize("persona", ["auditor", "administrator"])
def test_the_navigation_links_findings_and_runs(
    client: Client, request: pytest.FixtureRequest, persona: str
) -> None:
    client.force_login(request.getfixturevalue(persona))

    content = client.get(FINDINGS).content.decode()

    assert f'href="{FINDINGS}"' in content
    assert f'href="{RUNS}"' in content


def test_an_approver_is_shown_findings_but_not_runs_in_the_navigation(client: Client, approver: Any) -> None:
    client.force_login(approver)

    content = client.get(FINDINGS).content.decode()

    assert f'href="{FINDINGS}"' in content
    assert f'href="{RUNS}"' not in content


# --- Findings list ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["auditor", "administrator"])
def test_auditors_see_every_finding_unknown_accounts_included(
    client: Client, request: pytest.FixtureRequest, persona: str, account: Any
) -> None:
    known = make_finding(account=account, summary="In the inventory")
    unknown = make_finding(account_id=UNKNOWN_ACCOUNT_ID, summary="Nobody knows this account")
    client.force_login(request.getfixturevalue(persona))

    response = client.get(FINDINGS)

    assert response.status_code == 200
    content = response.content.decode()
    assert known.code in content
    assert unknown.code in content
    assert "unknown account" in content
    assert account.name in content


def test_an_approver_sees_only_the_findings_of_accounts_they_approve_for(
    client: Client, approver: Any, account: Any
) -> None:
    mine = make_finding(account=account)
    elsewhere = make_finding(account=AwsAccountFactory(account_id=OTHER_ACCOUNT_ID))
    unknown = make_finding(account_id=UNKNOWN_ACCOUNT_ID)
    client.force_login(approver)

    content = client.get(FINDINGS).content.decode()

    assert mine.code in content
    assert elsewhere.code not in content
    assert unknown.code not in content
    assert client.get(detail_url(elsewhere)).status_code == 404


def test_the_list_is_filtered_by_kind_severity_status_account_and_time(client: Client, auditor: Any) -> None:
    old = make_finding(when=hours_ago(24 * 10), account_id=OTHER_ACCOUNT_ID)
    failed = make_finding(kind=FindingKind.ROOT_LOGIN_FAILED, severity=Severity.MEDIUM)
    resolved = make_finding(status=FindingStatus.RESOLVED)
    recent = make_finding()
    client.force_login(auditor)

    def codes(**query: str) -> set[str]:
        page = client.get(FINDINGS, query).context["page"]
        return {finding.code for finding in page.object_list}

    assert codes() == {old.code, failed.code, resolved.code, recent.code}
    assert codes(kind=FindingKind.ROOT_LOGIN_FAILED) == {failed.code}
    assert codes(severity=Severity.MEDIUM) == {failed.code}
    assert codes(status=FindingStatus.RESOLVED) == {resolved.code}
    assert codes(account=OTHER_ACCOUNT_ID) == {old.code}
    ten_days_ago = (timezone.now() - timedelta(days=10)).astimezone(UTC).date()
    assert codes(until=ten_days_ago.isoformat()) == {old.code}
    assert codes(since=(ten_days_ago + timedelta(days=2)).isoformat()) == {
        failed.code,
        resolved.code,
        recent.code,
    }
    assert codes(status=FindingStatus.OPEN, severity=Severity.CRITICAL, account=ACCOUNT_ID) == {recent.code}


def test_an_invalid_filter_is_explained_and_filters_nothing(client: Client, auditor: Any) -> None:
    finding = make_finding()
    client.force_login(auditor)

    response = client.get(FINDINGS, {"account": "12345", "kind": "no_such_kind"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "An AWS account id is 12 digits." in content
    assert "Select a valid choice" in content
    assert finding.code in content


def test_from_after_to_is_refused(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    response = client.get(FINDINGS, {"since": "2025-03-02", "until": "2025-03-01"})

    assert "&#x27;From&#x27; is after &#x27;To&#x27;." in response.content.decode()


def test_findings_are_paged_newest_first_and_pages_keep_the_filters(client: Client, auditor: Any) -> None:
    start = hours_ago(200)
    made = [make_finding(when=start + timedelta(hours=n)) for n in range(55)]
    make_finding(kind=FindingKind.CHECKOUT_OVERDUE, severity=Severity.HIGH)
    client.force_login(auditor)

    first = client.get(FINDINGS, {"kind": FindingKind.UNAPPROVED_ROOT_USAGE})
    second = client.get(FINDINGS, {"kind": FindingKind.UNAPPROVED_ROOT_USAGE, "page": 2})

    assert [f.code for f in first.context["page"].object_list][:2] == [made[-1].code, made[-2].code]
    assert len(first.context["page"].object_list) == 50
    assert [f.code for f in second.context["page"].object_list] == [f.code for f in reversed(made[:5])]
    assert "kind=unapproved_root_usage&amp;page=2" in first.content.decode()


def test_the_list_costs_the_same_queries_for_five_findings_or_forty(
    client: Client, auditor: Any, account: Any, requester: Any, approver: Any
) -> None:
    session = checkout(requester, account, approver, out_at=hours_ago(3))
    client.force_login(auditor)
    client.get(FINDINGS)  # sessions, roles and MFA checks warmed up

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(FINDINGS).status_code == 200
        return len(captured)

    for n in range(5):
        make_finding(account=account if n % 2 else None, session=session if n % 3 else None, events=2)
    few = queries()
    for n in range(35):
        make_finding(account=account if n % 2 else None, session=session if n % 3 else None, events=3)
    many = queries()

    assert many == few


# --- Finding detail -----------------------------------------------------------------------------


def test_the_detail_shows_the_events_with_their_raw_records_escaped(client: Client, auditor: Any) -> None:
    finding = make_finding(events=0)
    hostile = make_event(userAgent="<script>alert('root')</script>", requestParameters={"k": "</pre><b>x"})
    finding.events.add(hostile)
    client.force_login(auditor)

    response = client.get(detail_url(finding))

    assert response.status_code == 200
    content = response.content.decode()
    assert finding.code in content
    assert finding.summary in content
    assert hostile.event_id in content
    assert "<script>alert" not in content
    assert "&lt;script&gt;alert(&#x27;root&#x27;)&lt;/script&gt;" in content
    assert "&lt;/pre&gt;&lt;b&gt;x" in content
    # Pretty-printed with sorted keys (jsonb keeps no order).
    assert "{\n  &quot;awsRegion&quot;: &quot;us-east-1&quot;,\n  &quot;eventID&quot;: " in content


def test_the_detail_links_the_matched_check_out(
    client: Client, auditor: Any, account: Any, requester: Any, approver: Any
) -> None:
    session = checkout(requester, account, approver, out_at=hours_ago(3))
    finding = make_finding(
        account=account,
        session=session,
        kind=FindingKind.ROOT_ACTIVITY_OUTSIDE_SCOPE,
        severity=Severity.HIGH,
    )
    client.force_login(auditor)

    content = client.get(detail_url(finding)).content.decode()

    assert reverse("breakglass:request_detail", kwargs={"uuid": session.uuid}) in content
    assert session.code in content


def test_an_unknown_finding_is_not_found(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    assert client.get(reverse("audits:finding_detail", kwargs={"uuid": uuid.uuid4()})).status_code == 404


def test_the_triage_form_is_shown_to_auditors_and_not_to_approvers(
    client: Client, auditor: Any, approver: Any, account: Any
) -> None:
    finding = make_finding(account=account)

    client.force_login(auditor)
    assert 'name="note"' in client.get(detail_url(finding)).content.decode()
    client.force_login(approver)
    response = client.get(detail_url(finding))
    assert response.status_code == 200
    assert 'name="note"' not in response.content.decode()


def test_findings_from_a_real_ingestion_are_listed_with_their_events(
    client: Client, auditor: Any, tmp_path: Path
) -> None:
    login = root_login(when=hours_ago(1), account=UNKNOWN_ACCOUNT_ID, mfa="No", event_id="login-without-mfa")
    ingest_records(tmp_path, [login])
    client.force_login(auditor)

    content = client.get(FINDINGS).content.decode()
    without_mfa = Finding.objects.get(kind=FindingKind.ROOT_LOGIN_WITHOUT_MFA)
    detail = client.get(detail_url(without_mfa)).content.decode()

    assert without_mfa.code in content
    assert "login-without-mfa" in detail
    assert "not used" in detail  # MFA


# --- Triage -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [FindingStatus.ACKNOWLEDGED, FindingStatus.RESOLVED, FindingStatus.FALSE_POSITIVE]
)
def test_an_auditor_triages_a_finding_with_a_note_recorded_in_the_ledger(
    client: Client, auditor: Any, status: str
) -> None:
    finding = make_finding()
    client.force_login(auditor)

    response = client.post(
        triage_url(finding), {"status": status, "note": "Called the account owner; planned."}
    )

    assert response.status_code == 302
    assert response["Location"] == detail_url(finding)
    finding.refresh_from_db()
    assert finding.status == status
    assert finding.triaged_by == auditor
    assert finding.triage_note == "Called the account owner; planned."
    entry = LedgerEntry.objects.get(action="finding.triaged")
    assert entry.actor_id == auditor.pk
    assert entry.target_id == str(finding.uuid)
    assert entry.data["to"] == status
    assert entry.data["note"] == "Called the account owner; planned."
    page = client.get(detail_url(finding)).content.decode()
    assert "Called the account owner; planned." in page


def test_a_triage_without_a_note_is_refused_and_changes_nothing(client: Client, auditor: Any) -> None:
    finding = make_finding()
    client.force_login(auditor)

    response = client.post(triage_url(finding), {"status": FindingStatus.RESOLVED, "note": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    assert not LedgerEntry.objects.filter(action="finding.triaged").exists()


def test_a_note_too_short_for_evidence_is_refused_by_the_service(client: Client, auditor: Any) -> None:
    finding = make_finding()
    client.force_login(auditor)

    response = client.post(triage_url(finding), {"status": FindingStatus.RESOLVED, "note": "ok"})

    assert response.status_code == 200
    assert "at least" in response.content.decode()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    assert not LedgerEntry.objects.filter(action="finding.triaged").exists()


def test_an_unknown_decision_is_refused(client: Client, auditor: Any) -> None:
    finding = make_finding()
    client.force_login(auditor)

    response = client.post(triage_url(finding), {"status": FindingStatus.OPEN, "note": "Reopen it please."})

    assert response.status_code == 200
    finding.refresh_from_db()
    assert finding.triaged_at is None


@pytest.mark.parametrize("persona", ["approver", "custodian", "requester", "outsider"])
def test_only_auditors_and_administrators_may_triage(
    client: Client, request: pytest.FixtureRequest, persona: str, account: Any
) -> None:
    finding = make_finding(account=account)
    client.force_login(request.getfixturevalue(persona))

    response = client.post(triage_url(finding), {"status": FindingStatus.RESOLVED, "note": "Nothing to see."})

    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


def test_triage_is_a_post_and_anonymous_visitors_sign_in_first(client: Client, auditor: Any) -> None:
    finding = make_finding()

    assert client.post(triage_url(finding), {"status": "resolved", "note": "x" * 20}).status_code == 302
    client.force_login(auditor)
    assert client.get(triage_url(finding)).status_code == 405
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


# --- Runs ---------------------------------------------------------------------------------------


def test_runs_show_what_was_read_and_the_problems_with_file_names(client: Client, auditor: Any) -> None:
    source = IngestionSource.objects.create(name="org-trail", kind=SourceKind.S3, config={"bucket": "b"})
    run = IngestionRun.objects.create(
        source=source,
        kind=SourceKind.S3,
        unit="111122223333/eu-west-1",
        status=RunStatus.PARTIAL,
        finished_at=timezone.now(),
        files_read=12,
        files_rejected=1,
        records_read=34_567,
        root_records=3,
        findings_raised=2,
        errors=[{"file": "AWSLogs/o-1/x.json.gz", "reason": "corrupt gzip: CRC check failed"}],
    )
    client.force_login(auditor)

    listing = client.get(RUNS).content.decode()
    detail = client.get(reverse("audits:run_detail", kwargs={"uuid": run.uuid})).content.decode()

    assert "org-trail" in listing
    assert "34,567" in listing
    assert "1 rejected" in listing
    assert "Finished with rejected files" in detail
    assert "AWSLogs/o-1/x.json.gz" in detail
    assert "corrupt gzip: CRC check failed" in detail
    assert "111122223333/eu-west-1" in detail


def test_an_unknown_run_is_not_found(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    assert client.get(reverse("audits:run_detail", kwargs={"uuid": uuid.uuid4()})).status_code == 404


def test_runs_are_paged(client: Client, administrator: Any) -> None:
    for n in range(55):
        IngestionRun.objects.create(kind=SourceKind.FILES, unit=f"unit-{n:02d}")
    client.force_login(administrator)

    first = client.get(RUNS)
    second = client.get(RUNS, {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 5


# --- Upload -------------------------------------------------------------------------------------


@pytest.fixture
def worker(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Uploads are ingested by a Celery task once the upload commits: here, in-process."""
    settings.PORTAL_UPLOAD_DIR = tmp_path / "uploads"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


def test_an_auditor_uploads_a_log_and_sees_the_run_and_the_finding(
    client: Client, auditor: Any, worker: None, django_capture_on_commit_callbacks: Any
) -> None:
    data = gz_delivery([root_call(when=hours_ago(1), account=UNKNOWN_ACCOUNT_ID, event_id="uploaded-root")])
    client.force_login(auditor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(UPLOAD, {"log_file": SimpleUploadedFile("trail.json.gz", data)})
    response = client.get(response["Location"])

    run = IngestionRun.objects.get()
    assert response.request["PATH_INFO"] == reverse("audits:run_detail", kwargs={"uuid": run.uuid})
    assert run.kind == SourceKind.UPLOAD
    assert run.triggered_by == auditor
    assert run.status == RunStatus.SUCCEEDED
    assert (run.files_read, run.records_read, run.root_records) == (1, 1, 1)
    assert RootEvent.objects.filter(event_id="uploaded-root").exists()
    assert Finding.objects.filter(kind=FindingKind.UNAPPROVED_ROOT_USAGE, aws_account_id=UNKNOWN_ACCOUNT_ID)
    content = response.content.decode()
    assert "trail.json.gz" in content
    assert "The file was uploaded; it is being read now." in content
    entry = LedgerEntry.objects.get(action="logs.uploaded")
    assert entry.actor_id == auditor.pk
    assert entry.target_id == str(run.uuid)
    assert entry.data["file"] == "trail.json.gz"
    assert entry.data["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry.data["bytes"] == len(data)


def test_an_upload_that_cannot_be_read_is_a_run_with_the_reason(
    client: Client, administrator: Any, worker: None, django_capture_on_commit_callbacks: Any
) -> None:
    good = gzip.compress(json.dumps({"Records": [root_call(when=hours_ago(1))] * 50}).encode())
    client.force_login(administrator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            UPLOAD, {"log_file": SimpleUploadedFile("cut.json.gz", good[: len(good) // 2])}
        )
    response = client.get(response["Location"])

    run = IngestionRun.objects.get()
    assert run.status == RunStatus.PARTIAL
    assert run.files_rejected == 1
    content = response.content.decode()
    assert "cut.json.gz" in content
    assert "truncated gzip" in content


def test_an_upload_named_like_a_path_is_known_by_its_name_only(client: Client, auditor: Any) -> None:
    data = gz_delivery([root_call(when=hours_ago(1), account=UNKNOWN_ACCOUNT_ID)])
    upload = SimpleUploadedFile("x.json.gz", data)
    upload.name = "../../etc/trail.json.gz"  # a hand-made request; Django's parser would strip it
    client.force_login(auditor)

    client.post(UPLOAD, {"log_file": upload})

    assert IngestionRun.objects.get().unit == "trail.json.gz"
    assert LedgerEntry.objects.get(action="logs.uploaded").data["file"] == "trail.json.gz"


def test_an_empty_upload_is_refused(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    response = client.post(UPLOAD, {"log_file": SimpleUploadedFile("empty.json", b"")})

    assert response.status_code == 200
    assert not IngestionRun.objects.exists()


def test_the_upload_form_is_offered_on_the_runs_page(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    assert f'href="{UPLOAD}"' in client.get(RUNS).content.decode()
    assert 'enctype="multipart/form-data"' in client.get(UPLOAD).content.decode()


@pytest.mark.parametrize("persona", ["approver", "custodian"])
def test_an_upload_by_someone_else_is_refused_and_reads_nothing(
    client: Client, request: pytest.FixtureRequest, persona: str
) -> None:
    client.force_login(request.getfixturevalue(persona))

    response = client.post(UPLOAD, {"log_file": SimpleUploadedFile("t.json.gz", gz_delivery([]))})

    assert response.status_code == 403
    assert not IngestionRun.objects.exists()


# --- The check-out's page -----------------------------------------------------------------------


def test_the_session_page_lists_the_root_events_matched_to_the_check_out(
    client: Client, requester: Any, approver: Any, auditor: Any, account: Any, tmp_path: Path
) -> None:
    session = checkout(requester, account, approver, out_at=hours_ago(2), minutes=240)
    in_task = root_call(when=hours_ago(1), name="CloseAccount", source="account.amazonaws.com")
    outside_task = root_call(
        when=hours_ago(1) + timedelta(minutes=5), name="CreateUser", source="iam.amazonaws.com"
    )
    ingest_records(tmp_path, [in_task, outside_task])
    assert RootEvent.objects.filter(session=session).count() == 2
    url = reverse("breakglass:request_detail", kwargs={"uuid": session.uuid})

    for person in (requester, auditor):
        client.force_login(person)
        content = client.get(url).content.decode()

        assert "Root activity in CloudTrail" in content
        assert "CloseAccount" in content
        assert "CreateUser" in content
    in_scope = {event.event_name: event.in_scope for event in RootEvent.objects.filter(session=session)}
    assert in_scope == {"CloseAccount": True, "CreateUser": False}
    assert '<span class="badge badge-warn">no</span>' in content
    assert '<span class="badge badge-ok">yes</span>' in content


def test_a_check_out_without_matched_events_says_so(
    client: Client, requester: Any, approver: Any, account: Any
) -> None:
    session = checkout(requester, account, approver, out_at=hours_ago(1))
    client.force_login(requester)

    content = client.get(reverse("breakglass:request_detail", kwargs={"uuid": session.uuid})).content.decode()

    assert "No root events matched to this check-out yet." in content


def test_the_template_tag_gives_nothing_to_someone_who_may_not_see_the_request(
    requester: Any, approver: Any, outsider: Any, account: Any, tmp_path: Path
) -> None:
    session = checkout(requester, account, approver, out_at=hours_ago(2), minutes=240)
    ingest_records(tmp_path, [root_call(when=hours_ago(1), name="CloseAccount")])
    template = Template("{% load evidence %}{% session_root_events r as events %}{{ events|length }}")

    def shown_to(user: Any) -> str:
        http_request = RequestFactory().get("/")
        http_request.user = user
        return template.render(Context({"r": session, "request": http_request}))

    assert shown_to(requester) == "1"
    assert shown_to(outsider) == "0"
