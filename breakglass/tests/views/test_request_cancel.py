"""``request_cancel``: only the requester cancels; the ledger records ``access_request.cancelled``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from breakglass.models import AccessRequest
from breakglass.tests.views.support import ledger_actions, page, url

pytestmark = pytest.mark.django_db


def test_a_requester_cancels_a_pending_request(
    signed_in: Callable[..., Client], requester: Any, pending: AccessRequest
) -> None:
    signed_in(requester).post(url("request_cancel", pending))
    pending.refresh_from_db()
    assert pending.status == "cancelled"
    assert ledger_actions(pending)[-1] == "access_request.cancelled"


def test_nobody_else_cancels_a_request(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    response = signed_in(approver).post(url("request_cancel", pending), follow=True)
    assert "Only the requester can cancel a request." in page(response)
    pending.refresh_from_db()
    assert pending.status == "pending"
