"""``portal.home``: each role lands on its own sections at ``/``; a person with several roles sees
each of them; the account list stays at its own address."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audits.tests.overview_support import finding, root_event
from breakglass import custody, services
from breakglass.tests.factories import AwsAccountFactory, GrantFactory, MfaDeviceFactory
from breakglass.tests.lifecycle_helpers import active, make_request
from portal.people import person_label
from portal.policy import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(approver: Any, custodian: Any) -> Any:
    made = AwsAccountFactory(name="payments-prod", account_id="123456789012", approval_quorum=1)
    made.approvers.set([approver])
    made.custodians.set([custodian])
    return made


def _home(client: Client, user: Any) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_requester_sees_her_requests_with_what_happens_next_and_her_emergency_grants(
    client: Client, requester: Any, account: Any, approver: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    request = make_request(requester, account)
    html = _home(client, requester)
    assert 'id="home-requester"' in html
    assert request.code in html
    assert f"Waiting for 1 more approval from {person_label(approver)}." in html
    assert "Your emergency grants" in html
    assert "payments-prod" in html
    assert 'id="home-approver"' not in html
    assert 'id="home-overview"' not in html


def test_the_approver_sees_what_waits_for_his_decision(
    client: Client, requester: Any, account: Any, approver: Any
) -> None:
    request = make_request(requester, account)
    html = _home(client, approver)
    assert 'id="home-approver"' in html
    assert request.code in html
    assert 'Approvals <span class="nav-count">1</span>' in html


def test_the_custodian_sees_hand_overs_and_returns_waiting(
    client: Client, requester: Any, account: Any, approver: Any, custodian: Any, administrator: Any
) -> None:
    key = MfaDeviceFactory(label="YubiKey Payments")
    services.mfa_device_assign(actor=administrator, device=key, account=account)
    session = active(make_request(requester, account), approver)
    html = _home(client, custodian)
    assert "Hand-overs waiting" in html
    assert session.code in html
    custody.access_request_hand_over(request=session, custodian=custodian, devices=[key])
    custody.access_request_check_in(request=session, actor=requester, work_done="Closed it as planned.")
    html = _home(client, custodian)
    assert "Returns to confirm" in html
    assert "YubiKey Payments" in html
    assert "Rotations due" in html
    assert 'Custody <span class="nav-count">2</span>' in html


def test_the_auditor_sees_the_overview_with_its_charts(client: Client, auditor: Any, account: Any) -> None:
    event = root_event(account_id=account.account_id, when=timezone.now())
    finding(
        kind="unapproved_root_usage",
        severity="critical",
        account=account,
        when=timezone.now(),
        events=[event],
    )
    html = _home(client, auditor)
    assert 'id="home-overview"' in html
    assert html.count("<svg") == 3
    assert "Root events per week, by account" in html
    assert "1 open" in html
    assert 'id="home-requester"' not in html
    assert "refreshed once a minute" in html  # the page says how fresh its figures are
    assert 'id="h-drills"' in html


def test_a_person_with_several_roles_sees_the_sections_of_each(
    client: Client, make_persona: Any, account: Any
) -> None:
    everyone = make_persona("sam.several", Role.REQUESTER, Role.APPROVER, Role.CUSTODIAN, Role.ADMINISTRATOR)
    html = _home(client, everyone)
    for section in ("home-requester", "home-approver", "home-custodian", "home-overview"):
        assert f'id="{section}"' in html


def test_the_account_list_keeps_its_address(client: Client, requester: Any) -> None:
    client.force_login(requester)
    assert client.get(reverse("breakglass:account_list")).status_code == 200
    assert reverse("breakglass:account_list") == "/inventory/"


def test_an_anonymous_visitor_is_sent_to_sign_in(client: Client) -> None:
    assert client.get(reverse("home"))["Location"] == reverse("account_login")
