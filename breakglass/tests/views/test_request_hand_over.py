"""``request_hand_over``: a stepped-up custodian hands the MFA device to the holder; the ledger
records ``access_request.devices_handed_over``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import AccessRequest
from breakglass.tests.lifecycle_helpers import active
from breakglass.tests.views.support import ledger_actions, page, url

pytestmark = pytest.mark.django_db


def test_a_custodian_hands_over_the_device_after_stepping_up(
    signed_in: Callable[..., Client],
    requester: Any,
    approver: Any,
    custodian: Any,
    pending: AccessRequest,
    device: Any,
) -> None:
    active(pending, approver)
    assert "Hand over" not in page(signed_in(requester).get(url("request_detail", pending)))
    assert (
        signed_in(custodian)
        .post(url("request_hand_over", pending), {"devices": [device.pk]})["Location"]
        .startswith(reverse("mfa_reauthenticate"))
    )
    client = signed_in(custodian, stepped_up=True)
    assert "YubiKey Payments" in page(client.get(url("request_detail", pending)))

    client.post(url("request_hand_over", pending), {"devices": [device.pk]})

    device.refresh_from_db()
    assert device.custody_state == "checked_out"
    assert device.holder == requester
    assert ledger_actions(pending)[-1] == "access_request.devices_handed_over"


def test_handing_over_nothing_shows_the_service_s_message(
    signed_in: Callable[..., Client], approver: Any, custodian: Any, pending: AccessRequest, device: Any
) -> None:
    active(pending, approver)
    response = signed_in(custodian, stepped_up=True).post(url("request_hand_over", pending), {})
    assert "Choose the MFA devices you hand over." in page(response)
