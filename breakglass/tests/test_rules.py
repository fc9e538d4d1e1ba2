"""The rules of ``breakglass.rules``: who is refused each action on a request, with which text, and
that each queryset form selects exactly the rows its predicate allows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from breakglass import custody, lifecycle, rules, services
from breakglass.choices import RequestStatus
from breakglass.models import AccessRequest, AwsAccount, Grant
from breakglass.tests.factories import AwsAccountFactory, GrantFactory, PhysicalCredentialFactory
from breakglass.tests.lifecycle_helpers import active, approve, make_request, returned
from portal.errors import DomainError

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42!"


def _fresh(request: AccessRequest) -> AccessRequest:
    return AccessRequest.objects.select_related("account").get(pk=request.pk)


# --- Live grants ---------------------------------------------------------------------------------


def test_a_live_grant_is_neither_revoked_nor_expired(requester: Any, administrator: Any) -> None:
    live = GrantFactory(user=requester)
    GrantFactory(user=requester, expires_at=timezone.now() - timedelta(minutes=1))
    GrantFactory(user=requester, revoked_at=timezone.now())
    assert list(Grant.objects.live()) == [live]


# --- Deciding ------------------------------------------------------------------------------------


def test_deciding_refuses_the_requester_outsiders_the_decided_and_a_closed_request(
    requester: Any, approver: Any, second_approver: Any, custodian: Any, account: Any
) -> None:
    request = make_request(requester, account)
    assert rules.refusal_to_decide(approver, request) is None
    assert rules.refusal_to_decide(requester, request) == "Nobody approves their own request."
    assert rules.refusal_to_decide(custodian, request) == f"You are not an approver of {account}."
    account.approvers.add(second_approver)
    account.approval_quorum = 2
    account.save()
    approve(request, approver)
    assert rules.refusal_to_decide(approver, _fresh(request)) == "You have already decided on this request."
    approve(request, second_approver)
    assert rules.refusal_to_decide(second_approver, _fresh(request)) == (
        f"{request.code} is approved; it takes no more decisions."
    )


def test_an_emergency_session_takes_decisions_until_its_approvals_are_in(
    requester: Any, approver: Any, account: Any
) -> None:
    request = make_request(requester, account, emergency_grant=True)
    lifecycle.access_request_self_authorise(
        request=request, requester=requester, reason="The approvers are all asleep right now."
    )
    assert rules.refusal_to_decide(approver, _fresh(request)) is None
    approve(request, approver)
    assert _fresh(request).emergency_approved_at is not None
    assert "takes no more decisions" in (rules.refusal_to_decide(approver, _fresh(request)) or "")


# --- The requester's own actions ---------------------------------------------------------------


def test_only_the_requester_cancels_and_only_while_pending_or_approved(
    requester: Any, approver: Any, administrator: Any, account: Any
) -> None:
    request = make_request(requester, account)
    assert rules.refusal_to_cancel(requester, request) is None
    assert rules.refusal_to_cancel(administrator, request) == "Only the requester can cancel a request."
    active(request, approver)
    assert rules.refusal_to_cancel(requester, _fresh(request)) == (
        f"{request.code} is checked out; it can no longer be cancelled."
    )


def test_self_authorising_needs_the_requester_an_emergency_grant_and_a_pending_request(
    requester: Any, approver: Any, account: Any
) -> None:
    ordinary = make_request(requester, account)
    assert rules.refusal_to_self_authorise(approver, ordinary) == (
        "Only the requester can self-authorise their request."
    )
    assert rules.refusal_to_self_authorise(requester, ordinary) == (
        "You hold no emergency grant for this account."
    )
    Grant.objects.filter(user=requester, account=account).update(emergency=True)
    assert rules.refusal_to_self_authorise(requester, ordinary) is None
    approve(ordinary, approver)
    assert rules.refusal_to_self_authorise(requester, _fresh(ordinary)) == (
        f"{ordinary.code} is approved; only a pending request can be self-authorised."
    )


def test_only_the_requester_checks_out_an_approved_request(
    requester: Any, approver: Any, custodian: Any, account: Any
) -> None:
    request = make_request(requester, account)
    assert rules.refusal_to_check_out(requester, request) == (
        f"{request.code} is pending approval; only an approved request can be checked out."
    )
    approve(request, approver)
    assert rules.refusal_to_check_out(requester, _fresh(request)) is None
    assert rules.refusal_to_check_out(custodian, _fresh(request)) == (
        "Only the requester can check out their request."
    )


def test_only_the_holder_of_an_active_check_out_reveals_a_password_kept_in_the_portal(
    requester: Any, approver: Any, custodian: Any, administrator: Any, account: Any
) -> None:
    services.root_credential_store_in_portal(actor=administrator, account=account, password=PASSWORD)
    request = make_request(requester, account)
    assert rules.refusal_to_reveal(requester, request) == (
        f"{request.code} is pending approval; the password is shown only during an active check-out."
    )
    active(request, approver)
    assert rules.refusal_to_reveal(requester, _fresh(request)) is None
    assert rules.refusal_to_reveal(custodian, _fresh(request)) == (
        "Only the holder of the check-out can reveal the password."
    )
    AccessRequest.objects.filter(pk=request.pk).update(root_task="assume_root_audit_credentials")
    assert "This is an AssumeRoot task" in (rules.refusal_to_reveal(requester, _fresh(request)) or "")


def test_a_password_kept_in_a_safe_is_never_revealed(requester: Any, approver: Any, account: Any) -> None:
    PhysicalCredentialFactory(account=account)
    request = active(make_request(requester, account), approver)
    assert rules.refusal_to_reveal(requester, _fresh(request)) == (
        "This account's root password is not kept in the portal."
    )


# --- Custody -------------------------------------------------------------------------------------


def test_a_custodian_other_than_the_holder_hands_over_during_the_session(
    requester: Any, approver: Any, custodian: Any, account: Any
) -> None:
    request = make_request(requester, account)
    assert rules.refusal_to_hand_over(custodian, request) == (
        f"{request.code} is pending approval; devices are handed over for an active check-out."
    )
    active(request, approver)
    assert rules.refusal_to_hand_over(custodian, _fresh(request)) is None
    assert rules.refusal_to_hand_over(approver, _fresh(request)) == f"You are not a custodian of {account}."
    account.custodians.add(requester)
    assert rules.refusal_to_hand_over(requester, _fresh(request)) == (
        "The holder cannot hand devices to themselves; another custodian must."
    )


def test_the_holder_or_a_custodian_checks_in_an_active_or_revoked_session(
    requester: Any, approver: Any, custodian: Any, administrator: Any, account: Any
) -> None:
    request = make_request(requester, account)
    assert rules.refusal_to_check_in(requester, request) == (
        f"{request.code} is pending approval; only an active check-out can be checked in."
    )
    active(request, approver)
    assert rules.refusal_to_check_in(requester, _fresh(request)) is None
    assert rules.refusal_to_check_in(custodian, _fresh(request)) is None
    assert rules.refusal_to_check_in(approver, _fresh(request)) == (
        "Only the holder or a custodian of the account can check in."
    )
    lifecycle.access_request_revoke(request=request, administrator=administrator, reason="Left the company.")
    assert rules.refusal_to_check_in(custodian, _fresh(request)) is None


def test_a_custodian_or_administrator_who_did_not_hold_the_session_confirms_the_rotation(
    requester: Any, approver: Any, custodian: Any, administrator: Any, account: Any
) -> None:
    request = active(make_request(requester, account), approver)
    assert rules.refusal_to_confirm_rotation(custodian, _fresh(request)) == (
        f"{request.code} is checked out; rotation is confirmed after check-in."
    )
    custody.access_request_check_in(request=request, actor=requester, work_done="Closed the account.")
    returned_request = _fresh(request)
    assert rules.refusal_to_confirm_rotation(custodian, returned_request) is None
    assert rules.refusal_to_confirm_rotation(administrator, returned_request) is None
    assert rules.refusal_to_confirm_rotation(approver, returned_request) == (
        f"Only a custodian of {account} or an administrator can confirm the rotation."
    )
    assert rules.refusal_to_confirm_rotation(requester, returned_request) == (
        "The holder cannot review their own session; a custodian or administrator must."
    )


def test_only_an_administrator_revokes_and_only_an_open_request(
    requester: Any, approver: Any, custodian: Any, administrator: Any, account: Any
) -> None:
    request = make_request(requester, account)
    assert rules.refusal_to_revoke(administrator, request) is None
    assert rules.refusal_to_revoke(custodian, request) == "Only an administrator can revoke a request."
    returned(request, approver)
    assert rules.refusal_to_revoke(administrator, _fresh(request)) == (
        f"{request.code} is returned, rotation pending; only open requests can be revoked."
    )


def test_the_service_raises_the_rules_refusal_on_the_locked_row(
    requester: Any, approver: Any, account: Any
) -> None:
    request = make_request(requester, account)
    stale = AccessRequest.objects.get(pk=request.pk)
    lifecycle.access_request_cancel(request=request, requester=requester)
    # The page was drawn while the request was pending; the service asks again on the locked row.
    assert rules.refusal_to_decide(approver, stale) is None
    with pytest.raises(DomainError, match="is cancelled; it takes no more decisions"):
        lifecycle.access_request_decide(request=stale, approver=approver, decision="approve", comment="Ok.")


# --- Queryset forms agree with their predicates ------------------------------------------------


@pytest.fixture
def many_requests(
    requester: Any, approver: Any, second_approver: Any, custodian: Any, administrator: Any, account: Any
) -> list[AccessRequest]:
    """Requests in every state the decision rule distinguishes, on two accounts."""
    account.approvers.add(second_approver)
    other = AwsAccountFactory(approval_quorum=1)
    other.approvers.add(approver)
    made = [
        make_request(requester, account),  # pending
        approve(make_request(requester, other), approver),  # approved
        make_request(approver, other),  # pending, the approver's own
    ]
    cancelled = make_request(requester, other)
    lifecycle.access_request_cancel(request=cancelled, requester=requester)
    emergency_account = AwsAccountFactory(approval_quorum=2)
    emergency_account.approvers.add(approver, second_approver)
    emergency = make_request(requester, emergency_account, emergency_grant=True)
    lifecycle.access_request_self_authorise(
        request=emergency, requester=requester, reason="The approvers are all asleep right now."
    )
    approve(emergency, second_approver)  # one of two approvals collected afterwards
    return [*made, cancelled, emergency]


def test_awaiting_decision_selects_exactly_the_requests_the_rule_lets_decide(
    many_requests: list[AccessRequest],
    requester: Any,
    approver: Any,
    second_approver: Any,
    custodian: Any,
    outsider: Any,
) -> None:
    for person in (requester, approver, second_approver, custodian, outsider):
        by_rule = {
            r.pk
            for r in AccessRequest.objects.select_related("account")
            if rules.refusal_to_decide(person, r) is None
        }
        by_query = set(
            AccessRequest.objects.filter(rules.awaiting_decision_q(person)).values_list("pk", flat=True)
        )
        assert by_query == by_rule, person
    assert AccessRequest.objects.filter(rules.awaiting_decision_q(approver)).count() == 2


def test_the_visible_requests_filter_agrees_with_may_view_request(
    many_requests: list[AccessRequest],
    requester: Any,
    approver: Any,
    custodian: Any,
    auditor: Any,
    outsider: Any,
) -> None:
    for person in (requester, approver, custodian, auditor, outsider):
        by_rule = {r.pk for r in AccessRequest.objects.all() if rules.may_view_request(person, r)}
        by_query = set(
            AccessRequest.objects.filter(rules.visible_requests_q(person)).values_list("pk", flat=True)
        )
        assert by_query == by_rule, person


def test_requestable_and_emergency_accounts_agree_with_their_refusals(
    many_requests: list[AccessRequest], requester: Any, approver: Any, outsider: Any
) -> None:
    GrantFactory(user=requester, account=AwsAccountFactory(), expires_at=timezone.now() - timedelta(days=1))
    for person in (requester, approver, outsider):
        requestable = set(
            AwsAccount.objects.filter(rules.requestable_accounts_q(person)).values_list("pk", flat=True)
        )
        assert requestable == {
            a.pk for a in AwsAccount.objects.all() if rules.refusal_to_request(person, a) is None
        }
        emergency = set(
            AwsAccount.objects.filter(rules.emergency_accounts_q(person)).values_list("pk", flat=True)
        )
        pending_here = {
            r.account_id: r
            for r in AccessRequest.objects.filter(requester_id=person.pk, status=RequestStatus.PENDING)
        }
        for account_pk, request in pending_here.items():
            allowed = rules.refusal_to_self_authorise(person, request) is None
            assert allowed == (account_pk in emergency), (person, request)
