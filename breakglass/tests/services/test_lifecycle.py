"""The break-glass state machine (:mod:`breakglass.lifecycle`): filing, deciding, cancelling,
revoking and self-authorising requests, with the error a person would see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from breakglass import custody, lifecycle
from breakglass.models import AccessRequest, Approval, RootCredential
from breakglass.tests.factories import AwsAccountFactory, GrantFactory
from breakglass.tests.lifecycle_helpers import (
    JUSTIFICATION,
    NEW_PASSWORD,
    active,
    approve,
    make_request,
)
from ledger import chain
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db


# --- Request ---------------------------------------------------------------------------------


def test_a_request_starts_pending_with_a_transition_and_a_ledger_entry(requester: Any, account: Any) -> None:
    request = make_request(requester, account)
    assert request.status == "pending"
    assert request.code.startswith("BG-")
    assert [t.to_status for t in request.transitions.all()] == ["pending"]
    assert LedgerEntry.objects.filter(action="access_request.created", target_id=str(request.uuid)).exists()


def test_a_request_needs_a_live_grant(requester: Any, account: Any) -> None:
    with pytest.raises(DomainError) as caught:
        lifecycle.access_request_create(
            requester=requester,
            account=account,
            root_task="close_account",
            justification=JUSTIFICATION,
            ticket_reference="CHG-1",
            starts_at=timezone.now(),
            duration_minutes=30,
        )
    assert "no live grant" in caught.value.message_dict["account"][0]


def test_an_expired_grant_is_no_grant(requester: Any, account: Any) -> None:
    GrantFactory(user=requester, account=account, expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(DomainError, match="no live grant"):
        make_request(requester, account)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"justification": "because"}, "justification", "at least 20 characters"),
        ({"ticket_reference": ""}, "ticket_reference", "requires a ticket reference"),
        ({"duration_minutes": 121}, "duration_minutes", "at most 120 minutes"),
        ({"root_task": "make_coffee"}, "root_task", "Choose one of the listed root tasks"),
        ({"root_task": "other", "other_task": ""}, "other_task", "Say which root task"),
        ({"starts_at": timezone.now() - timedelta(hours=2)}, "starts_at", "cannot be in the past"),
    ],
)
def test_a_request_form_error_says_what_to_fix(
    requester: Any, account: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(DomainError) as caught:
        make_request(requester, account, **overrides)
    assert message in caught.value.message_dict[field][0]
    assert not AccessRequest.objects.exists()


def test_a_centralised_account_takes_only_assume_root_tasks(requester: Any) -> None:
    account = AwsAccountFactory(governance_mode="centralised", ticket_required=False)
    with pytest.raises(DomainError, match="choose an AssumeRoot task"):
        make_request(requester, account)
    unlock = make_request(requester, account, root_task="assume_root_s3_unlock", bucket_name="orders-archive")
    assert unlock.status == "pending"


# --- Approval --------------------------------------------------------------------------------


def test_a_quorum_of_two_needs_two_distinct_approvers(
    requester: Any, account: Any, approver: Any, second_approver: Any
) -> None:
    account.approvers.add(second_approver)
    account.approval_quorum = 2
    account.save()
    request = make_request(requester, account)

    approve(request, approver)
    assert request.status == "pending"
    approve(request, second_approver)
    assert request.status == "approved"
    assert request.approved_at is not None


def test_nobody_approves_their_own_request(make_persona: Any, account: Any, approver: Any) -> None:
    from portal.policy import Role

    both = make_persona("both.roles", Role.REQUESTER, Role.APPROVER)
    account.approvers.add(both)
    request = make_request(both, account)
    with pytest.raises(DomainError, match="Nobody approves their own request"):
        lifecycle.access_request_decide(request=request, approver=both, decision="approve", comment="fine")
    assert not Approval.objects.exists()


def test_the_database_refuses_a_self_approval_too(requester: Any, account: Any) -> None:
    request = make_request(requester, account)
    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.create(
            request=request, approver=requester, requester=requester, decision="approve", comment="x"
        )


def test_nobody_decides_twice(requester: Any, account: Any, approver: Any, second_approver: Any) -> None:
    account.approvers.add(second_approver)
    account.approval_quorum = 2
    account.save()
    request = make_request(requester, account)
    approve(request, approver)
    with pytest.raises(DomainError, match="already decided"):
        lifecycle.access_request_decide(
            request=request, approver=approver, decision="deny", comment="changed mind"
        )


def test_someone_who_is_not_an_approver_of_the_account_cannot_decide(
    requester: Any, account: Any, second_approver: Any
) -> None:
    request = make_request(requester, account)
    with pytest.raises(DomainError, match="not an approver of"):
        lifecycle.access_request_decide(
            request=request, approver=second_approver, decision="approve", comment="ok"
        )


def test_the_first_denial_denies(requester: Any, account: Any, approver: Any, second_approver: Any) -> None:
    account.approvers.add(second_approver)
    account.approval_quorum = 2
    account.save()
    request = make_request(requester, account)
    lifecycle.access_request_decide(
        request=request, approver=approver, decision="deny", comment="No ticket approval."
    )
    request.refresh_from_db()
    assert request.status == "denied"
    with pytest.raises(DomainError, match="is denied; it takes no more decisions"):
        lifecycle.access_request_decide(
            request=request, approver=second_approver, decision="approve", comment="ok"
        )


def test_a_decision_needs_a_comment(requester: Any, account: Any, approver: Any) -> None:
    request = make_request(requester, account)
    with pytest.raises(DomainError) as caught:
        lifecycle.access_request_decide(request=request, approver=approver, decision="approve", comment="  ")
    assert "comment" in caught.value.message_dict


# --- Cancel and revoke -----------------------------------------------------------------------


def test_the_requester_cancels_a_pending_or_approved_request(
    requester: Any, account: Any, approver: Any
) -> None:
    pending = make_request(requester, account)
    assert lifecycle.access_request_cancel(request=pending, requester=requester).status == "cancelled"
    approved = approve(make_request(requester, account), approver)
    assert lifecycle.access_request_cancel(request=approved, requester=requester).status == "cancelled"


def test_only_the_requester_cancels(requester: Any, account: Any, approver: Any) -> None:
    request = make_request(requester, account)
    with pytest.raises(DomainError, match="Only the requester can cancel"):
        lifecycle.access_request_cancel(request=request, requester=approver)


def test_an_active_check_out_cannot_be_cancelled(requester: Any, account: Any, approver: Any) -> None:
    request = active(make_request(requester, account), approver)
    with pytest.raises(DomainError, match="is checked out; it can no longer be cancelled"):
        lifecycle.access_request_cancel(request=request, requester=requester)


def test_revoking_an_active_session_marks_the_password_for_rotation(
    requester: Any, portal_account: Any, approver: Any, administrator: Any
) -> None:
    request = active(make_request(requester, portal_account), approver)
    lifecycle.access_request_revoke(
        request=request, administrator=administrator, reason="Holder left the company."
    )
    request.refresh_from_db()
    assert request.status == "revoked"
    assert RootCredential.objects.get(account=portal_account).rotation_required


def test_only_an_administrator_revokes(requester: Any, account: Any, approver: Any) -> None:
    request = make_request(requester, account)
    with pytest.raises(DomainError, match="Only an administrator"):
        lifecycle.access_request_revoke(request=request, administrator=approver, reason="no")


def test_a_closed_request_cannot_be_revoked(
    requester: Any, account: Any, approver: Any, administrator: Any
) -> None:
    request = make_request(requester, account)
    lifecycle.access_request_cancel(request=request, requester=requester)
    with pytest.raises(DomainError, match="is cancelled; only open requests can be revoked"):
        lifecycle.access_request_revoke(request=request, administrator=administrator, reason="tidy up")


# --- Emergency -------------------------------------------------------------------------------


def test_an_emergency_grant_self_authorises_and_approvals_come_afterwards(
    requester: Any, account: Any, approver: Any
) -> None:
    request = make_request(requester, account, emergency_grant=True)
    lifecycle.access_request_self_authorise(
        request=request, requester=requester, reason="Approvers unreachable during the outage at 3 a.m."
    )
    request.refresh_from_db()
    assert request.status == "active"
    assert request.emergency
    assert request.emergency_approved_at is None

    lifecycle.access_request_decide(
        request=request, approver=approver, decision="approve", comment="Justified."
    )
    request.refresh_from_db()
    assert request.emergency_approved_at is not None
    assert request.status == "active"


def test_without_an_emergency_grant_nobody_self_authorises(requester: Any, account: Any) -> None:
    request = make_request(requester, account)
    with pytest.raises(DomainError, match="no emergency grant"):
        lifecycle.access_request_self_authorise(
            request=request, requester=requester, reason="Approvers unreachable during the outage."
        )


# --- The whole session, in the ledger ----------------------------------------------------


def test_the_ledger_holds_every_step_of_a_whole_session(
    requester: Any, portal_account: Any, approver: Any, custodian: Any, device: Any
) -> None:
    request = active(make_request(requester, portal_account), approver)
    custody.access_request_hand_over(request=request, custodian=custodian, devices=[device])
    custody.access_request_reveal_password(request=request, user=requester)
    custody.access_request_check_in(request=request, actor=requester, work_done="Closed the account.")
    custody.access_request_confirm_rotation(
        request=request, actor=custodian, review_note="In scope, password changed.", new_password=NEW_PASSWORD
    )
    actions = list(LedgerEntry.objects.filter(target_id=str(request.uuid)).values_list("action", flat=True))
    assert actions == [
        "access_request.created",
        "access_request.decision",
        "access_request.approved",
        "access_request.active",
        "access_request.devices_handed_over",
        "access_request.password_revealed",
        "access_request.returned",
        "root_credential.rotated",
        "access_request.closed",
    ]
    assert chain.verify().intact


def test_emergency_in_one_step_leaves_nothing_behind_when_refused(requester: Any, account: Any) -> None:
    GrantFactory(user=requester, account=account, emergency=False)
    with pytest.raises(DomainError, match="no emergency grant"):
        lifecycle.access_request_create_emergency(
            requester=requester,
            account=account,
            reason="Approvers unreachable during the outage at 3 a.m.",
            root_task="close_account",
            justification=JUSTIFICATION,
            ticket_reference="INC-9",
            starts_at=timezone.now(),
            duration_minutes=30,
        )
    assert not AccessRequest.objects.exists()
