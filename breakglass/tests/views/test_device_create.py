"""``device_create``: an administrator adds an MFA device to the inventory; the ledger records
``mfa_device.created``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import MfaDevice
from breakglass.tests.views.support import ledger_entry

pytestmark = pytest.mark.django_db


def test_an_administrator_adds_a_device_to_the_inventory(client: Client, administrator: Any) -> None:
    client.force_login(administrator)
    response = client.post(
        reverse("breakglass:device_create"),
        {
            "kind": "fido",
            "label": "YubiKey Orange",
            "serial_number": "SN-ORANGE",
            "storage_location": "Safe C",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("breakglass:device_list")
    device = MfaDevice.objects.get(label="YubiKey Orange")
    assert device.storage_location == "Safe C"
    assert ledger_entry("mfa_device.created", device).actor == administrator
