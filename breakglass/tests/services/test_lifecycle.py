"""The break-glass state machine, service by service, with the error a person would see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from breakglass import lifecycle, secrets, services
from breakglass.models import AccessRequest, Approval, RootCredential, SecretReveal
from breakglass.tests.factories import AwsAccountFactory, GrantFactory, MfaDeviceFactory
from breakglass.tests.lifecycle_helpers import JUSTIFICATION, active, approve, make_request, returned
from ledger import chain
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db

PASSWORD = "Initial-Root-Password-0001"
NEW_PASSWORD = "Rotated-Root-Password-0002"


@pytest.fixture
def portal_account(administrator: Any, account: Any) -> Any:
    services.root_credential_store_in_portal(actor=administrator, account=account, password=PASSWORD)
    return account


@pytest.fixture
def device(administrator: Any, account: Any) -> Any:
    key = MfaDeviceFactory(label="YubiKey Payments")
    services.mfa_device_assign(actor=administrator, device=key, account=account)
    return key


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
    assert make_request(requester, account, root_task="assume_root_s3_unlock").status == "pending"


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


# --- Check-out, hand-over, reveal ------------------------------------------------------------


def test_only_the_requester_checks_out_an_approved_request(
    requester: Any, account: Any, approver: Any
) -> None:
    request = make_request(requester, account)
    with pytest.raises(DomainError, match="is pending approval; only an approved request can be checked out"):
        lifecycle.access_request_check_out(request=request, requester=requester)
    approve(request, approver)
    with pytest.raises(DomainError, match="Only the requester"):
        lifecycle.access_request_check_out(request=request, requester=approver)
    request = lifecycle.access_request_check_out(request=request, requester=requester)
    assert request.status == "active"
    assert request.due_at is not None


def test_a_check_out_waits_for_the_window_to_open(requester: Any, account: Any, approver: Any) -> None:
    request = approve(
        make_request(requester, account, starts_at=timezone.now() + timedelta(hours=3)), approver
    )
    with pytest.raises(DomainError, match="The approved window opens at"):
        lifecycle.access_request_check_out(request=request, requester=requester)


def test_a_check_out_after_the_window_is_refused(requester: Any, account: Any, approver: Any) -> None:
    request = approve(make_request(requester, account), approver)
    AccessRequest.objects.filter(pk=request.pk).update(starts_at=timezone.now() - timedelta(hours=3))
    with pytest.raises(DomainError, match="window has passed"):
        lifecycle.access_request_check_out(request=request, requester=requester)


def test_one_active_check_out_per_account(requester: Any, account: Any, approver: Any) -> None:
    first = approve(make_request(requester, account), approver)
    second = approve(make_request(requester, account), approver)
    lifecycle.access_request_check_out(request=first, requester=requester)
    with pytest.raises(DomainError, match=r"Another check-out of .* is active"):
        lifecycle.access_request_check_out(request=second, requester=requester)
    second.refresh_from_db()
    assert second.status == "approved"


def test_a_custodian_hands_over_the_device_to_the_holder(
    requester: Any, account: Any, approver: Any, custodian: Any, device: Any
) -> None:
    request = active(make_request(requester, account), approver)
    lifecycle.access_request_hand_over(request=request, custodian=custodian, devices=[device])
    device.refresh_from_db()
    assert device.custody_state == "checked_out"
    assert device.holder == requester
    assert LedgerEntry.objects.get(action="access_request.devices_handed_over").data["devices"] == [
        device.serial_number
    ]


def test_the_holder_cannot_hand_devices_to_themselves(
    make_persona: Any, account: Any, approver: Any, device: Any
) -> None:
    from portal.policy import Role

    both = make_persona("req.cust", Role.REQUESTER, Role.CUSTODIAN)
    account.custodians.add(both)
    request = active(make_request(both, account), approver)
    with pytest.raises(DomainError, match="cannot hand devices to themselves"):
        lifecycle.access_request_hand_over(request=request, custodian=both, devices=[device])


def test_a_device_already_out_cannot_be_handed_over_again(
    requester: Any,
    account: Any,
    other_account: Any,
    approver: Any,
    custodian: Any,
    administrator: Any,
    device: Any,
) -> None:
    services.mfa_device_assign(actor=administrator, device=device, account=other_account)
    other_account.approvers.add(approver)
    other_account.custodians.add(custodian)
    first = active(make_request(requester, account), approver)
    lifecycle.access_request_hand_over(request=first, custodian=custodian, devices=[device])
    second = active(make_request(requester, other_account, ticket_reference="CHG-2"), approver)
    with pytest.raises(DomainError, match="is checked out, not in the safe"):
        lifecycle.access_request_hand_over(request=second, custodian=custodian, devices=[device])


def test_the_holder_reveals_the_password_and_each_reveal_is_recorded(
    requester: Any, portal_account: Any, approver: Any
) -> None:
    request = active(make_request(requester, portal_account), approver)
    assert lifecycle.access_request_reveal_password(request=request, user=requester) == PASSWORD
    assert lifecycle.access_request_reveal_password(request=request, user=requester) == PASSWORD
    assert SecretReveal.objects.filter(request=request).count() == 2
    entries = LedgerEntry.objects.filter(action="access_request.password_revealed")
    assert entries.count() == 2
    assert all(PASSWORD not in str(e.data) for e in entries)


def test_nobody_but_the_holder_reveals_and_only_while_active(
    requester: Any, portal_account: Any, approver: Any, administrator: Any
) -> None:
    request = approve(make_request(requester, portal_account), approver)
    with pytest.raises(DomainError, match="shown only during an active check-out"):
        lifecycle.access_request_reveal_password(request=request, user=requester)
    lifecycle.access_request_check_out(request=request, requester=requester)
    with pytest.raises(DomainError, match="Only the holder"):
        lifecycle.access_request_reveal_password(request=request, user=administrator)
    assert not SecretReveal.objects.exists()


# --- Check-in, rotation, review --------------------------------------------------------------


def test_check_in_returns_the_devices_and_marks_the_password_for_rotation(
    requester: Any, portal_account: Any, approver: Any, custodian: Any, device: Any
) -> None:
    request = active(make_request(requester, portal_account), approver)
    lifecycle.access_request_hand_over(request=request, custodian=custodian, devices=[device])
    lifecycle.access_request_check_in(
        request=request, actor=requester, work_done="Closed the account, nothing else."
    )
    request.refresh_from_db()
    device.refresh_from_db()
    assert request.status == "returned"
    assert device.custody_state == "in_safe"
    assert device.holder is None
    assert RootCredential.objects.get(account=portal_account).rotation_required


def test_a_physical_password_comes_back_with_a_new_seal_number(
    requester: Any, account: Any, approver: Any, administrator: Any
) -> None:
    services.root_credential_record_physical(
        actor=administrator, account=account, safe_location="Safe A", envelope_number="ENV-1"
    )
    request = active(make_request(requester, account), approver)
    with pytest.raises(DomainError) as caught:
        lifecycle.access_request_check_in(request=request, actor=requester, work_done="Closed the account.")
    assert "new seal" in caught.value.message_dict["envelope_number"][0]
    lifecycle.access_request_check_in(
        request=request, actor=requester, work_done="Closed the account.", envelope_number="ENV-7"
    )
    assert RootCredential.objects.get(account=account).envelope_number == "ENV-7"


def test_the_next_check_out_waits_until_the_rotation_is_confirmed(
    requester: Any, portal_account: Any, approver: Any, custodian: Any
) -> None:
    first = returned(make_request(requester, portal_account), approver)
    second = approve(make_request(requester, portal_account), approver)
    with pytest.raises(DomainError, match="has not been rotated since its last use"):
        lifecycle.access_request_check_out(request=second, requester=requester)

    lifecycle.access_request_confirm_rotation(
        request=first,
        actor=custodian,
        review_note="Only CloseAccount was called; in scope.",
        new_password=NEW_PASSWORD,
    )
    first.refresh_from_db()
    assert first.status == "closed"
    credential = RootCredential.objects.get(account=portal_account)
    assert not credential.rotation_required
    assert secrets.reveal_root_password(credential=credential) == NEW_PASSWORD
    assert lifecycle.access_request_check_out(request=second, requester=requester).status == "active"


def test_the_holder_cannot_review_their_own_session(requester: Any, account: Any, approver: Any) -> None:
    request = returned(make_request(requester, account), approver)
    with pytest.raises(DomainError, match="cannot review their own session"):
        lifecycle.access_request_confirm_rotation(
            request=request, actor=requester, review_note="All fine, trust me."
        )


def test_rotation_of_a_portal_password_needs_the_new_password(
    requester: Any, portal_account: Any, approver: Any, custodian: Any
) -> None:
    request = returned(make_request(requester, portal_account), approver)
    with pytest.raises(DomainError) as caught:
        lifecycle.access_request_confirm_rotation(
            request=request, actor=custodian, review_note="Looked at the events."
        )
    assert "new_password" in caught.value.message_dict


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


# --- Time ------------------------------------------------------------------------------------


def test_stale_requests_expire_and_active_ones_do_not(requester: Any, account: Any, approver: Any) -> None:
    pending = make_request(requester, account)
    AccessRequest.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(hours=25))
    approved = approve(make_request(requester, account), approver)
    AccessRequest.objects.filter(pk=approved.pk).update(starts_at=timezone.now() - timedelta(hours=2))
    fresh = make_request(requester, account)
    running = active(make_request(requester, account), approver)

    assert lifecycle.access_requests_expire() == 2
    statuses = dict(AccessRequest.objects.values_list("pk", "status"))
    assert statuses[pending.pk] == "expired"
    assert statuses[approved.pk] == "expired"
    assert statuses[fresh.pk] == "pending"
    assert statuses[running.pk] == "active"
    assert lifecycle.access_requests_expire() == 0


def test_overdue_check_outs_are_announced_again_at_intervals(
    requester: Any, account: Any, approver: Any
) -> None:
    request = active(make_request(requester, account), approver)
    AccessRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() - timedelta(minutes=5))

    assert lifecycle.checkouts_remind_overdue() == 1
    assert lifecycle.checkouts_remind_overdue() == 0
    assert lifecycle.checkouts_remind_overdue(now=timezone.now() + timedelta(minutes=31)) == 1
    assert LedgerEntry.objects.filter(action="access_request.overdue_notice").count() == 2


def test_the_ledger_holds_every_step_of_a_whole_session(
    requester: Any, portal_account: Any, approver: Any, custodian: Any, device: Any
) -> None:
    request = active(make_request(requester, portal_account), approver)
    lifecycle.access_request_hand_over(request=request, custodian=custodian, devices=[device])
    lifecycle.access_request_reveal_password(request=request, user=requester)
    lifecycle.access_request_check_in(request=request, actor=requester, work_done="Closed the account.")
    lifecycle.access_request_confirm_rotation(
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


def test_the_beat_tasks_run_the_time_services(requester: Any, account: Any, approver: Any) -> None:
    from breakglass import tasks

    request = active(make_request(requester, account), approver)
    AccessRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    stale = make_request(requester, account)
    AccessRequest.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=2))

    assert tasks.remind_overdue_checkouts() == 1
    assert tasks.expire_access_requests() == 1


def test_an_assume_root_task_never_hands_out_the_password(
    requester: Any, portal_account: Any, approver: Any
) -> None:
    request = active(
        make_request(requester, portal_account, root_task="assume_root_audit_credentials"), approver
    )
    with pytest.raises(DomainError, match="no root password is handed out"):
        lifecycle.access_request_reveal_password(request=request, user=requester)
    assert not SecretReveal.objects.exists()


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


def test_the_hand_over_time_is_recorded(
    requester: Any, account: Any, approver: Any, custodian: Any, device: Any
) -> None:
    request = active(make_request(requester, account), approver)
    lifecycle.access_request_hand_over(request=request, custodian=custodian, devices=[device])
    request.refresh_from_db()
    assert request.handed_over_at is not None
