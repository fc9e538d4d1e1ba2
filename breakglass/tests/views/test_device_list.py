"""``device_list``: custodians see the MFA devices of the accounts they keep; administrators and
auditors see every device; requesters are refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass import services
from breakglass.tests.factories import MfaDeviceFactory

pytestmark = pytest.mark.django_db


def test_the_device_list_shows_a_custodian_the_devices_of_the_accounts_he_keeps(
    client: Client, administrator: Any, custodian: Any, account: Any
) -> None:
    kept = MfaDeviceFactory(label="YubiKey Green")
    services.mfa_device_assign(actor=administrator, device=kept, account=account)
    client.force_login(custodian)
    response = client.get(reverse("breakglass:device_list"))
    assert response.status_code == 200
    assert "YubiKey Green" in response.content.decode()
    assert "Add a device" not in response.content.decode()


def test_a_custodian_does_not_see_devices_of_accounts_he_does_not_keep(
    client: Client, administrator: Any, custodian: Any, account: Any, other_account: Any
) -> None:
    services.mfa_device_assign(
        actor=administrator, device=MfaDeviceFactory(label="YubiKey Elsewhere"), account=other_account
    )
    MfaDeviceFactory(label="YubiKey Unassigned")
    shared = MfaDeviceFactory(label="YubiKey Shared")
    services.mfa_device_assign(actor=administrator, device=shared, account=account)
    services.mfa_device_assign(actor=administrator, device=shared, account=other_account)
    client.force_login(custodian)
    html = client.get(reverse("breakglass:device_list")).content.decode()
    assert "YubiKey Elsewhere" not in html
    assert "YubiKey Unassigned" not in html
    # A shared key shows, but not which other accounts it protects.
    assert "YubiKey Shared" in html
    assert other_account.name not in html
    device = MfaDeviceFactory(label="YubiKey Hidden")
    assert client.get(reverse("breakglass:device_edit", kwargs={"uuid": device.uuid})).status_code in (
        403,
        404,
    )


@pytest.mark.parametrize("persona", ["administrator", "auditor"])
def test_administrators_and_auditors_see_every_device(
    client: Client, request: pytest.FixtureRequest, administrator: Any, other_account: Any, persona: str
) -> None:
    services.mfa_device_assign(
        actor=administrator, device=MfaDeviceFactory(label="YubiKey Elsewhere"), account=other_account
    )
    MfaDeviceFactory(label="YubiKey Unassigned")
    client.force_login(request.getfixturevalue(persona))
    html = client.get(reverse("breakglass:device_list")).content.decode()
    assert "YubiKey Elsewhere" in html
    assert "YubiKey Unassigned" in html


def test_a_requester_may_not_see_the_custody_board(client: Client, requester: Any) -> None:
    client.force_login(requester)
    assert client.get(reverse("breakglass:device_list")).status_code == 403
