"""``finding_triage``: auditors and administrators acknowledge, resolve or dismiss a finding with a
note; the ledger records ``finding.triaged``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audits.choices import FindingStatus
from audits.tests.views.support import detail_url, make_finding, triage_url
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


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
