"""``request_check_in``: the holder returns the session with what was done; devices wait for a
custodian to confirm them in the safe and the ledger records ``access_request.returned``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from breakglass import custody
from breakglass.models import AccessRequest, RootCredential
from breakglass.tests.factories import PhysicalCredentialFactory
from breakglass.tests.lifecycle_helpers import active, make_request
from breakglass.tests.views.support import ledger_actions, page, url

pytestmark = pytest.mark.django_db


def test_the_holder_checks_in_with_what_was_done(
    signed_in: Callable[..., Client],
    requester: Any,
    approver: Any,
    custodian: Any,
    pending: AccessRequest,
    device: Any,
) -> None:
    active(pending, approver)
    custody.access_request_hand_over(request=pending, custodian=custodian, devices=[device])

    signed_in(requester).post(
        url("request_check_in", pending), {"work_done": "Closed the account as planned."}
    )

    pending.refresh_from_db()
    device.refresh_from_db()
    assert pending.status == "returned"
    assert device.custody_state == "returning"
    assert RootCredential.objects.get(account=pending.account).rotation_required
    assert ledger_actions(pending)[-1] == "access_request.returned"


def test_a_physical_check_in_without_a_seal_number_shows_the_service_s_message(
    signed_in: Callable[..., Client], requester: Any, approver: Any, account: Any
) -> None:
    PhysicalCredentialFactory(account=account)
    session = active(make_request(requester, account), approver)
    response = signed_in(requester).post(
        url("request_check_in", session), {"work_done": "Closed the account."}
    )
    assert "Give the number of the new seal on the envelope." in page(response)
    session.refresh_from_db()
    assert session.status == "active"
