"""``device_unassign``: an administrator takes an MFA device off an account, after a fresh second
factor and a confirmation page; the ledger records ``mfa_device.unassigned``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass import services
from breakglass.tests.factories import MfaDeviceFactory
from breakglass.tests.views.support import ledger_entry
from ledger.models import LedgerEntry
from portal.testing import step_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(administrator: Any, account: Any) -> Any:
    key = MfaDeviceFactory(label="YubiKey Purple")
    services.mfa_device_assign(actor=administrator, device=key, account=account)
    return key


def _url(account: Any, key: Any) -> str:
    return reverse("breakglass:device_unassign", kwargs={"uuid": account.uuid, "device_uuid": key.uuid})


def test_without_a_fresh_second_factor_the_device_stays(
    client: Client, administrator: Any, account: Any, key: Any
) -> None:
    client.force_login(administrator)
    response = client.post(_url(account, key))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert account.mfa_assignments.filter(device=key).exists()
    assert not LedgerEntry.objects.filter(action="mfa_device.unassigned").exists()


def test_the_confirmation_page_says_what_will_happen_and_changes_nothing(
    client: Client, administrator: Any, account: Any, key: Any
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.get(_url(account, key))
    assert response.status_code == 200
    assert f"Remove {key} from {account}?" in response.content.decode()
    assert account.mfa_assignments.filter(device=key).exists()


def test_an_administrator_takes_a_device_off_an_account(
    client: Client, administrator: Any, account: Any, key: Any
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(_url(account, key), {"confirmed": "yes"}, follow=True)
    assert f"{key} no longer protects {account}." in response.content.decode()
    assert not account.mfa_assignments.exists()
    entry = ledger_entry("mfa_device.unassigned", key)
    assert entry.actor == administrator
    assert entry.data["account_id"] == account.account_id


def test_a_post_without_the_confirmation_shows_the_page_and_keeps_the_device(
    client: Client, administrator: Any, account: Any, key: Any
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(_url(account, key))
    assert response.status_code == 200
    assert "Remove the device" in response.content.decode()
    assert account.mfa_assignments.filter(device=key).exists()
    assert not LedgerEntry.objects.filter(action="mfa_device.unassigned").exists()
