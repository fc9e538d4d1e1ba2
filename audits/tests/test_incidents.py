"""One root event, several findings, one incident (issue 11, item 5): grouping (pure), the findings
list, and triaging the incident, which triages each finding with its own ledger entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audits import services
from audits.incidents import group_into_incidents
from audits.models import Finding
from audits.tests.overview_support import finding, root_event
from breakglass.tests.factories import AwsAccountFactory
from ledger.models import LedgerEntry
from portal.errors import DomainError
from portal.testing import step_up

# --- Grouping (pure) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeEvent:
    pk: int


@dataclass
class FakeFinding:
    name: str
    event_ids: list[int] = field(default_factory=list)

    @property
    def events(self) -> Any:
        ids = self.event_ids

        class Manager:
            def all(self) -> list[FakeEvent]:
                return [FakeEvent(pk) for pk in ids]

        return Manager()


def test_findings_sharing_a_root_event_form_one_incident_in_the_place_of_the_first() -> None:
    a, b, c, d = FakeFinding("a", [1]), FakeFinding("b", [2]), FakeFinding("c", [1, 3]), FakeFinding("d")
    incidents = group_into_incidents([a, b, c, d])
    assert [[f.name for f in i.findings] for i in incidents] == [["a", "c"], ["b"], ["d"]]
    assert incidents[0].anchor == FakeEvent(1)
    assert [i.is_group for i in incidents] == [True, False, False]


def test_sharing_is_transitive() -> None:
    a, b, c = FakeFinding("a", [5]), FakeFinding("b", [5, 6]), FakeFinding("c", [6])
    (incident,) = group_into_incidents([a, b, c])
    assert [f.name for f in incident.findings] == ["a", "b", "c"]
    assert incident.anchor == FakeEvent(5)


# --- Pages and triage ---------------------------------------------------------------------------


@pytest.fixture
def account(approver: Any, custodian: Any) -> Any:
    made = AwsAccountFactory(name="payments-prod", account_id="123456789012", approval_quorum=1)
    made.approvers.set([approver])
    made.custodians.set([custodian])
    return made


@pytest.fixture
def incident(account: Any) -> tuple[Any, list[Finding]]:
    now = timezone.now()
    event = root_event(account_id=account.account_id, when=now, name="CreateAccessKey")
    both = [
        finding(kind="unapproved_root_usage", severity="critical", account=account, when=now, events=[event]),
        finding(
            kind="root_access_key_created", severity="critical", account=account, when=now, events=[event]
        ),
    ]
    finding(kind="root_login_failed", severity="medium", account=account, when=now)  # on its own
    return event, both


@pytest.mark.django_db
def test_the_findings_list_shows_the_incident_once_with_its_findings(
    client: Client, auditor: Any, incident: tuple[Any, list[Finding]]
) -> None:
    event, _both = incident
    client.force_login(auditor)
    html = client.get(reverse("audits:finding_list")).content.decode()
    assert html.count('class="incident-row"') == 1
    assert f'root event <span class="mono">{event.event_id}</span> raised 2 findings' in html
    assert reverse("audits:incident_detail", kwargs={"event_uuid": event.uuid}) in html
    assert html.count("in-incident") == 2


@pytest.mark.django_db
def test_triaging_the_incident_triages_each_finding_with_a_ledger_entry(
    client: Client, auditor: Any, incident: tuple[Any, list[Finding]]
) -> None:
    event, both = incident
    client.force_login(auditor)
    step_up(client, auditor)
    url = reverse("audits:incident_detail", kwargs={"event_uuid": event.uuid})
    assert "Record the decision on all 2 findings" in client.get(url).content.decode()

    response = client.post(
        url, {"status": "resolved", "note": "Key deleted; it was the planned rotation."}, follow=True
    )

    assert "The 2 findings of this incident are now resolved." in response.content.decode()
    assert set(Finding.objects.filter(pk__in=[f.pk for f in both]).values_list("status", flat=True)) == {
        "resolved"
    }
    entries = LedgerEntry.objects.filter(action="finding.triaged")
    assert sorted(e.data["code"] for e in entries) == sorted(f.code for f in both)
    assert {e.data["incident_event_id"] for e in entries} == {event.event_id}
    assert Finding.objects.get(kind="root_login_failed").status == "open"


@pytest.mark.django_db
def test_an_incident_triage_is_all_or_nothing(auditor: Any, incident: tuple[Any, list[Finding]]) -> None:
    event, both = incident
    with pytest.raises(DomainError):
        services.incident_triage(event=event, findings=both, actor=auditor, status="resolved", note="short")
    assert not LedgerEntry.objects.filter(action="finding.triaged").exists()


@pytest.mark.django_db
def test_an_approver_sees_the_incident_but_cannot_triage_it(
    client: Client, approver: Any, incident: tuple[Any, list[Finding]]
) -> None:
    event, _ = incident
    client.force_login(approver)
    url = reverse("audits:incident_detail", kwargs={"event_uuid": event.uuid})
    page = client.get(url)
    assert page.status_code == 200
    assert "Triage the incident" not in page.content.decode()
    assert client.post(url, {"status": "resolved", "note": "I should not be able to."}).status_code == 403


@pytest.mark.django_db
def test_one_finding_is_not_an_incident(client: Client, auditor: Any, account: Any) -> None:
    event = root_event(account_id=account.account_id, when=timezone.now())
    finding(kind="root_login_failed", severity="medium", account=account, when=timezone.now(), events=[event])
    client.force_login(auditor)
    assert client.get(reverse("audits:incident_detail", kwargs={"event_uuid": event.uuid})).status_code == 404
