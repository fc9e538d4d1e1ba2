"""``device_list``: custodians see the MFA devices; requesters are refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.tests.factories import MfaDeviceFactory

pytestmark = pytest.mark.django_db


def test_the_custody_board_lists_devices_for_custodians(client: Client, custodian: Any) -> None:
    MfaDeviceFactory(label="YubiKey Green")
    client.force_login(custodian)
    response = client.get(reverse("breakglass:device_list"))
    assert response.status_code == 200
    assert "YubiKey Green" in response.content.decode()
    assert "Add a device" not in response.content.decode()


def test_a_requester_may_not_see_the_custody_board(client: Client, requester: Any) -> None:
    client.force_login(requester)
    assert client.get(reverse("breakglass:device_list")).status_code == 403
