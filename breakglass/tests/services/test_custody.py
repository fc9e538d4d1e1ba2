"""Custody during a session (:mod:`breakglass.custody`): check-out, hand-over, reveal, check-in and
the rotation confirmation, with the error a person would see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from breakglass import custody, secrets, services
from breakglass.models import AccessRequest, RootCredential, SecretReveal
from breakglass.tests.lifecycle_helpers import (
    NEW_PASSWORD,
    PASSWORD,
    active,
    approve,
    make_request,
    returned,
)
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db


# --- Check-out, hand-over, reveal ------------------------------------------------------------


def test_only_the_requester_checks_out_an_approved_request(
    requester: Any, account: Any, approver: Any
) -> None:
    request = make_request(requester, account)
    with pytest.raises(DomainError, match="is pending approval; only an approved request can be checked out"):
        custody.access_request_check_out(request=request, requester=requester)
    approve(request, approver)
    with pytest.raises(DomainError, match="Only the requester"):
        custody.access_request_check_out(request=request, requester=approver)
    request = custody.access_request_check_out(request=request, requester=requester)
    assert request.status == "active"
    assert request.due_at is not None


def test_a_check_out_waits_for_the_window_to_open(requester: Any, account: Any, approver: Any) -> None:
    request = approve(
        make_request(requester, account, starts_at=timezone.now() + timedelta(hours=3)), approver
    )
    with pytest.raises(DomainError, match="The approved window opens at"):
        custody.access_request_check_out(request=request, requester=requester)


def test_a_check_out_after_the_window_is_refused(requester: Any, account: Any, approver: Any) -> None:
    request = approve(make_request(requester, account), approver)
    AccessRequest.objects.filter(pk=request.pk).update(starts_at=timezone.now() - timedelta(hours=3))
    with pytest.raises(DomainError, match="window has passed"):
        custody.access_request_check_out(request=request, requester=requester)


def test_one_active_check_out_per_account(requester: Any, account: Any, approver: Any) -> None:
    first = approve(make_request(requester, account), approver)
    second = approve(make_request(requester, account), approver)
    custody.access_request_check_out(request=first, requester=requester)
    with pytest.raises(DomainError, match=r"Another check-out of .* is active"):
        custody.access_request_check_out(request=second, requester=requester)
    second.refresh_from_db()
    assert second.status == "approved"


def test_a_custodian_hands_over_the_device_to_the_holder(
    requester: Any, account: Any, approver: Any, custodian: Any, device: Any
) -> None:
    request = active(make_request(requester, account), approver)
    custody.access_request_hand_over(request=request, custodian=custodian, devices=[device])
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
        custody.access_request_hand_over(request=request, custodian=both, devices=[device])


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
    custody.access_request_hand_over(request=first, custodian=custodian, devices=[device])
    second = active(make_request(requester, other_account, ticket_reference="CHG-2"), approver)
    with pytest.raises(DomainError, match="is checked out, not in the safe"):
        custody.access_request_hand_over(request=second, custodian=custodian, devices=[device])


def test_the_holder_reveals_the_password_and_each_reveal_is_recorded(
    requester: Any, portal_account: Any, approver: Any
) -> None:
    request = active(make_request(requester, portal_account), approver)
    assert custody.access_request_reveal_password(request=request, user=requester) == PASSWORD
    assert custody.access_request_reveal_password(request=request, user=requester) == PASSWORD
    assert SecretReveal.objects.filter(request=request).count() == 2
    entries = LedgerEntry.objects.filter(action="access_request.password_revealed")
    assert entries.count() == 2
    assert all(PASSWORD not in str(e.data) for e in entries)


def test_nobody_but_the_holder_reveals_and_only_while_active(
    requester: Any, portal_account: Any, approver: Any, administrator: Any
) -> None:
    request = approve(make_request(requester, portal_account), approver)
    with pytest.raises(DomainError, match="shown only during an active check-out"):
        custody.access_request_reveal_password(request=request, user=requester)
    custody.access_request_check_out(request=request, requester=requester)
    with pytest.raises(DomainError, match="Only the holder"):
        custody.access_request_reveal_password(request=request, user=administrator)
    assert not SecretReveal.objects.exists()


# --- Check-in, rotation, review --------------------------------------------------------------


def test_check_in_returns_the_devices_and_marks_the_password_for_rotation(
    requester: Any, portal_account: Any, approver: Any, custodian: Any, device: Any
) -> None:
    request = active(make_request(requester, portal_account), approver)
    custody.access_request_hand_over(request=request, custodian=custodian, devices=[device])
    custody.access_request_check_in(
        request=request, actor=requester, work_done="Closed the account, nothing else."
    )
    request.refresh_from_db()
    device.refresh_from_db()
    assert request.status == "returned"
    # Given back, not yet in the safe: a custodian confirms it (test_device_returns.py).
    assert device.custody_state == "returning"
    assert device.holder is None
    assert request.device_returns.get().confirmed_at is None
    assert RootCredential.objects.get(account=portal_account).rotation_required


def test_a_physical_password_comes_back_with_a_new_seal_number(
    requester: Any, account: Any, approver: Any, administrator: Any
) -> None:
    services.root_credential_record_physical(
        actor=administrator, account=account, safe_location="Safe A", envelope_number="ENV-1"
    )
    request = active(make_request(requester, account), approver)
    with pytest.raises(DomainError) as caught:
        custody.access_request_check_in(request=request, actor=requester, work_done="Closed the account.")
    assert "new seal" in caught.value.message_dict["envelope_number"][0]
    custody.access_request_check_in(
        request=request, actor=requester, work_done="Closed the account.", envelope_number="ENV-7"
    )
    assert RootCredential.objects.get(account=account).envelope_number == "ENV-7"


def test_the_next_check_out_waits_until_the_rotation_is_confirmed(
    requester: Any, portal_account: Any, approver: Any, custodian: Any
) -> None:
    first = returned(make_request(requester, portal_account), approver)
    second = approve(make_request(requester, portal_account), approver)
    with pytest.raises(DomainError, match="has not been rotated since its last use"):
        custody.access_request_check_out(request=second, requester=requester)

    custody.access_request_confirm_rotation(
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
    assert custody.access_request_check_out(request=second, requester=requester).status == "active"


def test_the_holder_cannot_review_their_own_session(requester: Any, account: Any, approver: Any) -> None:
    request = returned(make_request(requester, account), approver)
    with pytest.raises(DomainError, match="cannot review their own session"):
        custody.access_request_confirm_rotation(
            request=request, actor=requester, review_note="All fine, trust me."
        )


def test_rotation_of_a_portal_password_needs_the_new_password(
    requester: Any, portal_account: Any, approver: Any, custodian: Any
) -> None:
    request = returned(make_request(requester, portal_account), approver)
    with pytest.raises(DomainError) as caught:
        custody.access_request_confirm_rotation(
            request=request, actor=custodian, review_note="Looked at the events."
        )
    assert "new_password" in caught.value.message_dict


def test_an_assume_root_task_never_hands_out_the_password(
    requester: Any, portal_account: Any, approver: Any
) -> None:
    # A classic member account of an organization with root sessions on: AssumeRoot reaches it.
    portal_account.root_sessions_enabled = True
    portal_account.save()
    request = active(
        make_request(requester, portal_account, root_task="assume_root_audit_credentials"), approver
    )
    with pytest.raises(DomainError, match="no root password is handed out"):
        custody.access_request_reveal_password(request=request, user=requester)
    assert not SecretReveal.objects.exists()


def test_the_hand_over_time_is_recorded(
    requester: Any, account: Any, approver: Any, custodian: Any, device: Any
) -> None:
    request = active(make_request(requester, account), approver)
    custody.access_request_hand_over(request=request, custodian=custodian, devices=[device])
    request.refresh_from_db()
    assert request.handed_over_at is not None
