"""``device_unassign``: an administrator takes an MFA device off an account; the ledger records
``mfa_device.unassigned``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass import services
from breakglass.tests.factories import MfaDeviceFactory
from breakglass.tests.views.support import ledger_entry

pytestmark = pytest.mark.django_db


def test_an_administrator_takes_a_device_off_an_account(
    client: Client, administrator: Any, account: Any
) -> None:
    key = MfaDeviceFactory(label="YubiKey Purple")
    services.mfa_device_assign(actor=administrator, device=key, account=account)
    client.force_login(administrator)
    response = client.post(
        reverse("breakglass:device_unassign", kwargs={"uuid": account.uuid, "device_uuid": key.uuid}),
        follow=True,
    )
    assert f"{key} no longer protects {account}." in response.content.decode()
    assert not account.mfa_assignments.exists()
    entry = ledger_entry("mfa_device.unassigned", key)
    assert entry.actor == administrator
    assert entry.data["account_id"] == account.account_id
