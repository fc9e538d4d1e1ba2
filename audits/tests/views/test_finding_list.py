"""``finding_list``: who sees which findings, the filters, paging, and a fixed query cost."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.choices import FindingKind, FindingStatus, Severity
from audits.models import Finding
from audits.tests.findings_support import (
    ACCOUNT_ID,
    UNKNOWN_ACCOUNT_ID,
    checkout,
    hours_ago,
    ingest_records,
    root_login,
)
from audits.tests.views.support import FINDINGS, detail_url, make_finding
from breakglass.tests.factories import AwsAccountFactory

pytestmark = pytest.mark.django_db

OTHER_ACCOUNT_ID = "222233334444"


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
        return {finding.code for finding in page.items}

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

    response = client.get(FINDINGS, {"kind": "no_such_kind"})

    assert response.status_code == 200
    content = response.content.decode()
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
    cursor = first.context["page"].next_cursor
    second = client.get(FINDINGS, {"kind": FindingKind.UNAPPROVED_ROOT_USAGE, "cursor": cursor})

    assert [f.code for f in first.context["page"].items][:2] == [made[-1].code, made[-2].code]
    assert len(first.context["page"].items) == 50
    assert [f.code for f in second.context["page"].items] == [f.code for f in reversed(made[:5])]
    assert f"kind=unapproved_root_usage&amp;cursor={cursor}" in first.content.decode()
    assert second.context["page"].next_cursor is None
    back = client.get(
        FINDINGS,
        {"kind": FindingKind.UNAPPROVED_ROOT_USAGE, "cursor": second.context["page"].previous_cursor},
    )
    assert [f.code for f in back.context["page"].items] == [f.code for f in first.context["page"].items]


def test_the_account_filter_takes_a_name_part_an_id_prefix_or_a_dashed_id(
    client: Client, auditor: Any, account: Any
) -> None:
    named = make_finding(account=account)
    unknown = make_finding(account_id=OTHER_ACCOUNT_ID)
    client.force_login(auditor)

    def codes(text: str) -> set[str]:
        return {finding.code for finding in client.get(FINDINGS, {"account": text}).context["page"].items}

    part = account.name[1:-1].upper()  # case-insensitive, anywhere in the name
    assert codes(part) == {named.code}
    assert codes(ACCOUNT_ID[:4]) >= {named.code}
    assert codes(ACCOUNT_ID[:6]) == {named.code}
    # An account the inventory does not know is found by its recorded id.
    assert codes(OTHER_ACCOUNT_ID[:6]) == {unknown.code}
    dashed = f"{OTHER_ACCOUNT_ID[:4]}-{OTHER_ACCOUNT_ID[4:8]}-{OTHER_ACCOUNT_ID[8:]}"
    assert codes(dashed) == {unknown.code}
    assert codes("no-such-account") == set()


def test_the_findings_export_keeps_an_account_named_on_the_page(
    client: Client, auditor: Any, account: Any
) -> None:
    named = make_finding(account=account)
    other = make_finding(account_id=OTHER_ACCOUNT_ID)
    client.force_login(auditor)

    response = client.get(
        reverse("audits:report_export", args=["findings", "csv"]), {"account": account.name}
    )

    body = b"".join(response.streaming_content).decode()
    assert named.code in body
    assert other.code not in body


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
