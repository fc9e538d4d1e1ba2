"""``breakglass.home_selectors``: what each role's home section lists, and that it costs the same
number of queries with a few requests or many (``django_assert_num_queries`` at two sizes); the
navigation counts likewise."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass import custody, home_selectors, services
from breakglass.tests.factories import AwsAccountFactory, MfaDeviceFactory
from breakglass.tests.lifecycle_helpers import active, approve, make_request
from portal import policy
from portal.policy import Role

pytestmark = pytest.mark.django_db


def _busy(n: int, *, make_persona: Any, approver: Any, custodian: Any, administrator: Any) -> None:
    """``n`` accounts, each with a pending request, an active session without devices, and a
    returned session with a device waiting for its return confirmation."""
    for i in range(n):
        account = AwsAccountFactory(name=f"acct-{i}", account_id=f"{100000000000 + i}", approval_quorum=1)
        account.approvers.set([approver])
        account.custodians.set([custodian])
        key = MfaDeviceFactory(label=f"key-{i}")
        services.mfa_device_assign(actor=administrator, device=key, account=account)
        people = [make_persona(f"req-{i}-{k}", Role.REQUESTER) for k in range(3)]
        make_request(people[0], account)
        back = active(make_request(people[1], account), approver)
        custody.access_request_hand_over(request=back, custodian=custodian, devices=[key])
        custody.access_request_check_in(request=back, actor=people[1], work_done="Did what was asked.")
        active(make_request(people[2], account), approver)


def test_the_requester_sees_her_open_requests_active_first_and_her_emergency_grants(
    requester: Any, account: Any, approver: Any
) -> None:
    other = AwsAccountFactory(name="web-staging", account_id="210987654321", approval_quorum=1)
    other.approvers.set([approver])
    waiting = make_request(requester, other, emergency_grant=True)
    running = active(make_request(requester, account), approver)

    home = home_selectors.requester_home(user=requester)

    assert [r.pk for r in home.open_requests] == [running.pk, waiting.pk]
    assert [g.account.name for g in home.emergency_grants] == ["web-staging"]
    assert home.may_request


def test_the_approver_sees_what_waits_for_him_oldest_first(
    requester: Any, account: Any, approver: Any, make_persona: Any
) -> None:
    first = make_request(requester, account)
    second = make_request(make_persona("rob.requester", Role.REQUESTER), account)
    decided = approve(make_request(make_persona("ron.requester", Role.REQUESTER), account), approver)

    awaiting = home_selectors.approver_home(user=approver)

    assert [r.pk for r in awaiting] == [first.pk, second.pk]
    assert decided.pk not in [r.pk for r in awaiting]
    assert home_selectors.approver_home(user=requester) == []


def test_the_custodian_sees_hand_overs_returns_rotations_and_devices_out(
    requester: Any, account: Any, approver: Any, custodian: Any, administrator: Any, make_persona: Any
) -> None:
    key = MfaDeviceFactory(label="YubiKey Payments")
    services.mfa_device_assign(actor=administrator, device=key, account=account)
    back = active(make_request(requester, account), approver)
    custody.access_request_hand_over(request=back, custodian=custodian, devices=[key])
    home = home_selectors.custodian_home(user=custodian)
    assert [d.label for d in home.devices_out] == ["YubiKey Payments"]
    assert [s.code for s in home.devices_out[0].open_sessions] == [back.code]

    custody.access_request_check_in(request=back, actor=requester, work_done="Closed it as planned.")
    waiting = active(make_request(make_persona("rob.requester", Role.REQUESTER), account), approver)
    home = home_selectors.custodian_home(user=custodian)

    assert [r.pk for r in home.hand_overs] == [waiting.pk]
    assert [(b.request_id, b.device.label) for b in home.returns] == [(back.pk, "YubiKey Payments")]
    assert [r.pk for r in home.rotations] == [back.pk]
    assert home.devices_out == []
    assert home_selectors.nav_counts(user=custodian).custody == 3


@pytest.mark.parametrize("size", [1, 4])
def test_each_section_costs_the_same_queries_whatever_the_data(
    size: int,
    make_persona: Any,
    approver: Any,
    custodian: Any,
    administrator: Any,
    django_assert_num_queries: Any,
) -> None:
    _busy(
        size, make_persona=make_persona, approver=approver, custodian=custodian, administrator=administrator
    )
    for person in (approver, custodian):
        # Roles and MFA are cached on the user object, as on every page after the first question.
        policy.roles(person)
        policy.has_mfa(person)
    with django_assert_num_queries(5):  # requests, approvers, custodians, approvals, returns
        assert len(home_selectors.approver_home(user=approver)) == size
    with django_assert_num_queries(8):
        home = home_selectors.custodian_home(user=custodian)
    assert (len(home.hand_overs), len(home.returns), len(home.rotations)) == (size, size, size)
    with django_assert_num_queries(1):  # the requests awaiting a decision
        assert home_selectors.nav_counts(user=approver) == home_selectors.NavCounts(approvals=size, custody=0)
    with django_assert_num_queries(2):  # sessions waiting (hand-over or rotation); returns waiting
        assert home_selectors.nav_counts(user=custodian).custody == 3 * size


def test_the_navigation_shows_the_counts(client: Client, requester: Any, account: Any, approver: Any) -> None:
    make_request(requester, account)
    client.force_login(approver)
    html = client.get(reverse("breakglass:request_approvals")).content.decode()
    assert 'Approvals <span class="nav-count">1</span>' in html
