"""``device_edit``: an administrator relabels a device or marks it lost; the ledger records
``mfa_device.updated`` with what changed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.tests.factories import MfaDeviceFactory
from breakglass.tests.views.support import ledger_entry

pytestmark = pytest.mark.django_db


def test_an_administrator_marks_a_device_lost(client: Client, administrator: Any) -> None:
    device = MfaDeviceFactory(label="YubiKey Grey", storage_location="Safe A")
    client.force_login(administrator)
    response = client.post(
        reverse("breakglass:device_edit", kwargs={"uuid": device.uuid}),
        {"label": "YubiKey Grey", "storage_location": "Safe A", "custody_state": "lost"},
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.custody_state == "lost"
    entry = ledger_entry("mfa_device.updated", device)
    assert entry.actor == administrator
    assert entry.data["changes"] == {"custody_state": {"from": "in_safe", "to": "lost"}}
