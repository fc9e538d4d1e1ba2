"""``device_assign``: an administrator puts an MFA device on an account, after a fresh second factor
and a confirmation page that says what will happen; the ledger records ``mfa_device.assigned``."""

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


def _url(account: Any) -> str:
    return reverse("breakglass:device_assign", kwargs={"uuid": account.uuid})


def test_without_a_fresh_second_factor_nothing_is_assigned(
    client: Client, administrator: Any, account: Any
) -> None:
    key = MfaDeviceFactory(label="YubiKey Purple")
    client.force_login(administrator)
    response = client.post(_url(account), {"device": key.pk})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not account.mfa_assignments.exists()
    assert not LedgerEntry.objects.filter(action="mfa_device.assigned").exists()


def test_the_confirmation_page_says_what_will_happen_and_changes_nothing(
    client: Client, administrator: Any, account: Any
) -> None:
    key = MfaDeviceFactory(label="YubiKey Purple")
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.get(_url(account), {"device": key.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Add {key} to {account}?" in html
    assert "may be handed over" in html
    assert not account.mfa_assignments.exists()


def test_assigning_a_device_through_the_page_shows_the_rule_that_refused_it(
    client: Client, administrator: Any, account: Any, other_account: Any
) -> None:
    token = MfaDeviceFactory(kind="hardware_totp", label="Token-9")
    services.mfa_device_assign(actor=administrator, device=token, account=other_account)
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(_url(account), {"device": token.pk}, follow=True)
    # The form offers only assignable devices, so the token is not even a valid choice.
    assert "Choose a device to add." in response.content.decode()
    assert not account.mfa_assignments.exists()


def test_an_administrator_puts_a_free_device_on_an_account(
    client: Client, administrator: Any, account: Any
) -> None:
    key = MfaDeviceFactory(label="YubiKey Purple")
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(_url(account), {"device": key.pk}, follow=True)
    assert f"{key} now protects {account}." in response.content.decode()
    assert account.mfa_assignments.filter(device=key).exists()
    entry = ledger_entry("mfa_device.assigned", key)
    assert entry.actor == administrator
    assert entry.data["account_id"] == account.account_id


def test_with_many_devices_the_account_page_asks_for_a_serial_instead_of_listing_them(
    client: Client, administrator: Any, account: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from breakglass import forms

    monkeypatch.setattr(forms.AssignDeviceForm, "MAX_CHOICES", 2)
    keys = [
        MfaDeviceFactory(kind="fido", label=f"Spare key {n}", serial_number=f"SPARE-{n}") for n in range(3)
    ]
    client.force_login(administrator)
    step_up(client, administrator)

    page = client.get(reverse("breakglass:account_detail", kwargs={"uuid": account.uuid})).content.decode()
    assert 'name="serial"' in page
    assert "Spare key 0" not in page  # no list of every device
    confirm = client.get(_url(account), {"serial": "spare-1"})
    assert confirm.status_code == 200
    assert f'value="{keys[1].pk}"' in confirm.content.decode()
    missing = client.get(_url(account), {"serial": "NOPE-9"}, follow=True)
    assert "No device with serial NOPE-9 can be added" in missing.content.decode()
