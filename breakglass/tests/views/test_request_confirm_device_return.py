"""``request_confirm_device_return``: a stepped-up custodian confirms each MFA device back in the
safe from the request page; the holder is never offered the button."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass import custody
from breakglass.models import AccessRequest
from breakglass.tests.lifecycle_helpers import active
from breakglass.tests.views.support import ledger_actions, page, url

pytestmark = pytest.mark.django_db


def _confirm_url(request: AccessRequest, device: Any) -> str:
    return reverse(
        "breakglass:request_confirm_device_return", kwargs={"uuid": request.uuid, "device_uuid": device.uuid}
    )


@pytest.fixture
def returned(
    pending: AccessRequest, requester: Any, approver: Any, custodian: Any, device: Any
) -> AccessRequest:
    active(pending, approver)
    custody.access_request_hand_over(request=pending, custodian=custodian, devices=[device])
    custody.access_request_check_in(request=pending, actor=requester, work_done="Closed it as planned.")
    return pending


def test_a_custodian_confirms_the_device_after_stepping_up(
    signed_in: Callable[..., Client], returned: AccessRequest, requester: Any, custodian: Any, device: Any
) -> None:
    assert "Confirm the devices are back in the safe" not in page(
        signed_in(requester).get(url("request_detail", returned))
    )
    assert "Confirm the devices are back in the safe" in page(
        signed_in(custodian).get(url("request_detail", returned))
    )
    # Without a fresh second factor the custodian is sent to re-authenticate first.
    assert (
        signed_in(custodian)
        .post(_confirm_url(returned, device))["Location"]
        .startswith(reverse("mfa_reauthenticate"))
    )
    device.refresh_from_db()
    assert device.custody_state == "returning"

    response = signed_in(custodian, stepped_up=True).post(_confirm_url(returned, device), follow=True)

    device.refresh_from_db()
    assert device.custody_state == "in_safe"
    assert "YubiKey Payments is back in the safe." in page(response)
    assert "Device back" in page(response)  # the timeline line
    assert ledger_actions(returned)[-1] == "mfa_device.return_confirmed"


def test_the_holder_is_refused_even_when_posting_directly(
    signed_in: Callable[..., Client], returned: AccessRequest, requester: Any, device: Any
) -> None:
    response = signed_in(requester, stepped_up=True).post(_confirm_url(returned, device), follow=True)
    assert "cannot confirm their own return" in page(response)
    device.refresh_from_db()
    assert device.custody_state == "returning"


def test_a_get_is_not_an_action(
    signed_in: Callable[..., Client], returned: AccessRequest, custodian: Any, device: Any
) -> None:
    assert signed_in(custodian, stepped_up=True).get(_confirm_url(returned, device)).status_code == 405
