"""Issue 8, item 7: rules checked once must hold at every step.

A revoked grant stops a check-out and every reveal; a "new" root password equal to the stored one
is refused; the approver of a session does not hand over its MFA devices unless the account says
approval and custody need not be separated. Page and service ask the same rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from breakglass import custody, lifecycle, rules, secrets, services
from breakglass.forms import AccountForm
from breakglass.models import Grant, RootCredential, SecretReveal
from breakglass.tests.lifecycle_helpers import PASSWORD, active, approve, make_request, returned
from portal.errors import DomainError
from portal.policy import Role

pytestmark = pytest.mark.django_db


def _revoke_grants(administrator: Any, requester: Any, account: Any) -> None:
    for grant in Grant.objects.filter(user=requester, account=account, revoked_at__isnull=True):
        services.grant_revoke(actor=administrator, grant=grant)


# --- Eligibility at check-out and at every reveal ---------------------------------------------


def test_a_revoked_grant_stops_the_check_out_of_an_approved_request(
    requester: Any, approver: Any, administrator: Any, portal_account: Any
) -> None:
    request = approve(make_request(requester, portal_account), approver)
    _revoke_grants(administrator, requester, portal_account)

    assert rules.refusal_to_check_out(requester, request) is not None
    with pytest.raises(DomainError, match="no live grant"):
        custody.access_request_check_out(request=request, requester=requester)
    request.refresh_from_db()
    assert request.status == "approved"


def test_a_revoked_grant_stops_every_reveal(
    requester: Any, approver: Any, administrator: Any, portal_account: Any
) -> None:
    request = active(make_request(requester, portal_account), approver)
    assert custody.access_request_reveal_password(request=request, user=requester) == PASSWORD
    _revoke_grants(administrator, requester, portal_account)

    assert rules.refusal_to_reveal(requester, request) is not None
    with pytest.raises(DomainError, match="no live grant"):
        custody.access_request_reveal_password(request=request, user=requester)
    assert SecretReveal.objects.count() == 1


def test_an_emergency_session_needs_a_live_emergency_grant_at_every_reveal(
    requester: Any, administrator: Any, portal_account: Any
) -> None:
    request = make_request(requester, portal_account, emergency_grant=True)
    lifecycle.access_request_self_authorise(
        request=request, requester=requester, reason="Production is down, root needed now."
    )
    request.refresh_from_db()
    assert custody.access_request_reveal_password(request=request, user=requester) == PASSWORD
    # The emergency grant goes; an ordinary grant for the account does not stand in for it.
    _revoke_grants(administrator, requester, portal_account)
    services.grant_create(
        actor=administrator,
        user=requester,
        account=portal_account,
        expires_at=timezone.now() + timedelta(days=30),
        emergency=False,
    )

    with pytest.raises(DomainError, match="emergency grant"):
        custody.access_request_reveal_password(request=request, user=requester)


# --- Rotation -----------------------------------------------------------------------------------


def test_rotation_refuses_the_unchanged_password(
    requester: Any, approver: Any, custodian: Any, portal_account: Any
) -> None:
    request = returned(make_request(requester, portal_account), approver)

    with pytest.raises(DomainError) as refused:
        custody.access_request_confirm_rotation(
            request=request, actor=custodian, review_note="The work was in scope.", new_password=PASSWORD
        )

    assert "new_password" in refused.value.message_dict
    assert PASSWORD not in str(refused.value)
    credential = RootCredential.objects.get(account=portal_account)
    assert credential.rotation_required
    request.refresh_from_db()
    assert request.status == "returned"
    assert secrets.reveal_root_password(credential=credential) == PASSWORD


# --- Separation of duties -----------------------------------------------------------------------


@pytest.fixture
def both(make_persona: Callable[..., Any], portal_account: Any) -> Any:
    """An approver who is also a custodian of the account."""
    person = make_persona("ada.both", Role.APPROVER, Role.CUSTODIAN)
    portal_account.approvers.add(person)
    portal_account.custodians.add(person)
    return person


def test_the_approver_of_a_session_does_not_hand_over_its_devices(
    requester: Any, both: Any, portal_account: Any, device: Any
) -> None:
    assert portal_account.separate_duties  # the safe default
    request = active(make_request(requester, portal_account), both)

    assert rules.refusal_to_hand_over(both, request) is not None
    with pytest.raises(DomainError, match="approved"):
        custody.access_request_hand_over(request=request, custodian=both, devices=[device])


def test_an_account_may_allow_the_approver_to_hand_over(
    requester: Any, both: Any, portal_account: Any, device: Any
) -> None:
    portal_account.separate_duties = False
    portal_account.save()
    request = active(make_request(requester, portal_account), both)

    assert rules.refusal_to_hand_over(both, request) is None
    custody.access_request_hand_over(request=request, custodian=both, devices=[device])


def test_a_custodian_who_did_not_approve_hands_over(
    requester: Any, approver: Any, custodian: Any, portal_account: Any, device: Any
) -> None:
    request = active(make_request(requester, portal_account), approver)
    assert rules.refusal_to_hand_over(custodian, request) is None
    custody.access_request_hand_over(request=request, custodian=custodian, devices=[device])


def test_separation_of_duties_is_edited_with_the_account(administrator: Any, portal_account: Any) -> None:
    assert "separate_duties" in AccountForm().fields
    services.account_update(
        actor=administrator,
        account=portal_account,
        approvers=list(portal_account.approvers.all()),
        custodians=list(portal_account.custodians.all()),
        separate_duties=False,
    )
    portal_account.refresh_from_db()
    assert portal_account.separate_duties is False
