"""``device_edit``: an administrator relabels a device or marks it lost, after a fresh second factor;
the ledger records ``mfa_device.updated`` with what changed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.tests.factories import MfaDeviceFactory
from breakglass.tests.views.support import ledger_entry
from ledger.models import LedgerEntry
from portal.testing import step_up

pytestmark = pytest.mark.django_db

LOST = {"label": "YubiKey Grey", "storage_location": "Safe A", "custody_state": "lost"}


def test_without_a_fresh_second_factor_custody_does_not_change(client: Client, administrator: Any) -> None:
    device = MfaDeviceFactory(label="YubiKey Grey", storage_location="Safe A")
    client.force_login(administrator)
    response = client.post(reverse("breakglass:device_edit", kwargs={"uuid": device.uuid}), LOST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    device.refresh_from_db()
    assert device.custody_state == "in_safe"
    assert not LedgerEntry.objects.filter(action="mfa_device.updated").exists()


def test_the_page_says_what_marking_a_device_lost_does(client: Client, administrator: Any) -> None:
    device = MfaDeviceFactory(label="YubiKey Grey")
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.get(reverse("breakglass:device_edit", kwargs={"uuid": device.uuid}))
    assert "can no longer be added to an account" in response.content.decode()


def test_an_administrator_marks_a_device_lost(client: Client, administrator: Any) -> None:
    device = MfaDeviceFactory(label="YubiKey Grey", storage_location="Safe A")
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(reverse("breakglass:device_edit", kwargs={"uuid": device.uuid}), LOST)
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.custody_state == "lost"
    entry = ledger_entry("mfa_device.updated", device)
    assert entry.actor == administrator
    assert entry.data["changes"] == {"custody_state": {"from": "in_safe", "to": "lost"}}


def test_a_serial_or_label_with_a_right_to_left_override_is_refused(
    client: Client, administrator: Any
) -> None:
    device = MfaDeviceFactory(label="YubiKey Grey")
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(
        reverse("breakglass:device_edit", kwargs={"uuid": device.uuid}),
        {**LOST, "label": "YubiKey \u202eyerG"},
    )
    assert response.status_code == 200
    assert "U+202E" in response.content.decode()
    device.refresh_from_db()
    assert device.label == "YubiKey Grey"
