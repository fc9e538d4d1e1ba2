"""``finding_detail``: the events with their raw records escaped, the matched check-out, and the
triage form for those who may triage."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audits.choices import FindingKind, Severity
from audits.tests.findings_support import checkout, hours_ago
from audits.tests.views.support import detail_url, make_event, make_finding

pytestmark = pytest.mark.django_db


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
