"""``request_acknowledge``: an approver or custodian of the account acknowledges an emergency session
from the request page, with a fresh second factor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass import lifecycle
from breakglass.models import AccessRequest
from breakglass.tests.lifecycle_helpers import make_request
from breakglass.tests.views.support import ledger_actions, page, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def emergency(requester: Any, portal_account: Any) -> AccessRequest:
    request = make_request(requester, portal_account, emergency_grant=True)
    return lifecycle.access_request_self_authorise(
        request=request, requester=requester, reason="Production is down and no approver answers."
    )


def test_a_custodian_acknowledges_from_the_request_page(
    signed_in: Callable[..., Client], custodian: Any, emergency: AccessRequest
) -> None:
    client = signed_in(custodian, stepped_up=True)
    assert "Acknowledge this emergency" in page(client.get(url("request_detail", emergency)))

    response = client.post(url("request_acknowledge", emergency), {"note": "Confirmed by phone."})

    assert response.status_code == 302
    emergency.refresh_from_db()
    assert emergency.emergency_acknowledged_by == custodian
    assert ledger_actions(emergency)[-1] == "access_request.emergency_acknowledged"


def test_acknowledging_needs_a_fresh_second_factor(
    signed_in: Callable[..., Client], approver: Any, emergency: AccessRequest
) -> None:
    response = signed_in(approver).post(url("request_acknowledge", emergency), {"note": ""})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    emergency.refresh_from_db()
    assert emergency.emergency_acknowledged_at is None


def test_the_holder_sees_no_button_and_is_refused(
    signed_in: Callable[..., Client], requester: Any, emergency: AccessRequest
) -> None:
    client = signed_in(requester, stepped_up=True)
    assert "Acknowledge this emergency" not in page(client.get(url("request_detail", emergency)))
    client.post(url("request_acknowledge", emergency), {"note": ""})
    emergency.refresh_from_db()
    assert emergency.emergency_acknowledged_at is None
