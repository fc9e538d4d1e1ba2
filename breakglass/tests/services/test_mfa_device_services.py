from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from breakglass import services
from breakglass.models import MfaDevice, MfaDeviceAssignment
from breakglass.tests.factories import AwsAccountFactory, MfaDeviceFactory
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db


def test_a_fido_key_may_protect_several_accounts(
    administrator: Any, account: Any, other_account: Any, fido_key: Any
) -> None:
    services.mfa_device_assign(actor=administrator, device=fido_key, account=account)
    services.mfa_device_assign(actor=administrator, device=fido_key, account=other_account)
    assert set(fido_key.accounts.all()) == {account, other_account}
    assert LedgerEntry.objects.filter(action="mfa_device.assigned").count() == 2


def test_it_refuses_a_hardware_totp_token_on_a_second_account(
    administrator: Any, account: Any, other_account: Any
) -> None:
    token = MfaDeviceFactory(kind="hardware_totp", label="Token2")
    services.mfa_device_assign(actor=administrator, device=token, account=account)

    with pytest.raises(DomainError) as caught:
        services.mfa_device_assign(actor=administrator, device=token, account=other_account)

    assert "can protect only one account" in caught.value.messages[0]
    assert list(token.accounts.all()) == [account]


def test_the_database_itself_refuses_a_totp_token_on_a_second_account(
    account: Any, other_account: Any
) -> None:
    token = MfaDeviceFactory(kind="hardware_totp")
    MfaDeviceAssignment.objects.create(device=token, account=account, device_kind=token.kind)
    with pytest.raises(IntegrityError), transaction.atomic():
        MfaDeviceAssignment.objects.create(device=token, account=other_account, device_kind=token.kind)


def test_it_refuses_a_ninth_device_on_one_account(administrator: Any, account: Any) -> None:
    for _ in range(8):
        services.mfa_device_assign(actor=administrator, device=MfaDeviceFactory(), account=account)

    with pytest.raises(DomainError) as caught:
        services.mfa_device_assign(actor=administrator, device=MfaDeviceFactory(), account=account)

    assert "already has 8 MFA devices" in caught.value.messages[0]
    assert account.mfa_assignments.count() == 8


def test_a_virtual_device_is_allowed_but_flagged(administrator: Any, account: Any) -> None:
    device = services.mfa_device_create(
        actor=administrator, kind="virtual", label="Phone", serial_number="arn:virtual", storage_location=""
    )
    services.mfa_device_assign(actor=administrator, device=device, account=account)
    assert device.is_virtual
    assert LedgerEntry.objects.get(action="mfa_device.assigned").data["virtual"] is True


def test_it_refuses_to_assign_a_lost_device(administrator: Any, account: Any) -> None:
    device = MfaDeviceFactory(custody_state="lost")
    with pytest.raises(DomainError, match="lost"):
        services.mfa_device_assign(actor=administrator, device=device, account=account)


def test_it_refuses_the_same_device_twice_on_one_account(
    administrator: Any, account: Any, fido_key: Any
) -> None:
    services.mfa_device_assign(actor=administrator, device=fido_key, account=account)
    with pytest.raises(DomainError, match="already protects"):
        services.mfa_device_assign(actor=administrator, device=fido_key, account=account)


def test_unassigning_removes_the_device_and_is_recorded(
    administrator: Any, account: Any, fido_key: Any
) -> None:
    services.mfa_device_assign(actor=administrator, device=fido_key, account=account)
    services.mfa_device_unassign(actor=administrator, device=fido_key, account=account)
    assert not account.mfa_assignments.exists()
    assert LedgerEntry.objects.filter(action="mfa_device.unassigned", target_id=str(fido_key.uuid)).exists()


def test_custody_cannot_be_set_to_checked_out_by_hand(administrator: Any, fido_key: Any) -> None:
    with pytest.raises(DomainError) as caught:
        services.mfa_device_update(
            actor=administrator, device=fido_key, label="x", storage_location="y", custody_state="checked_out"
        )
    assert "approved request" in caught.value.message_dict["custody_state"][0]


def test_marking_a_device_lost_is_recorded_with_the_change(administrator: Any, fido_key: Any) -> None:
    services.mfa_device_update(
        actor=administrator, device=fido_key, label=fido_key.label, storage_location="", custody_state="lost"
    )
    fido_key.refresh_from_db()
    assert fido_key.custody_state == "lost"
    changes = LedgerEntry.objects.get(action="mfa_device.updated").data["changes"]
    assert changes["custody_state"] == {"from": "in_safe", "to": "lost"}


def test_the_database_refuses_a_holder_on_a_device_in_the_safe(requester: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        MfaDevice.objects.create(
            kind="fido", label="k", serial_number="s-1", custody_state="in_safe", holder=requester
        )


def test_the_device_limit_holds_for_every_account_separately(administrator: Any) -> None:
    shared = MfaDeviceFactory()
    for _ in range(3):
        services.mfa_device_assign(actor=administrator, device=shared, account=AwsAccountFactory())
    assert shared.assignments.count() == 3


def test_a_serial_number_with_a_right_to_left_override_is_refused(administrator: Any) -> None:
    with pytest.raises(DomainError, match="U\\+202E") as refused:
        services.mfa_device_create(
            actor=administrator,
            kind="fido",
            label="YubiKey",
            serial_number="SN-\u202e321",
            storage_location="",
        )
    assert "serial_number" in refused.value.message_dict
    assert not MfaDevice.objects.exists()
