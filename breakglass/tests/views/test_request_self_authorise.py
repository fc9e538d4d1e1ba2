"""``request_self_authorise``: a requester with an emergency grant turns a pending request into a
check-out from its page; the ledger records ``access_request.active``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from breakglass.tests.factories import GrantFactory
from breakglass.tests.lifecycle_helpers import make_request
from breakglass.tests.views.support import ledger_actions, page, url

pytestmark = pytest.mark.django_db


def test_a_requester_self_authorises_a_pending_request_from_its_page(
    signed_in: Callable[..., Client], requester: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    pending = make_request(requester, account)
    client = signed_in(requester, stepped_up=True)
    assert "Self-authorise and check out" in page(client.get(url("request_detail", pending)))

    client.post(
        url("request_self_authorise", pending), {"reason": "Approvers unreachable during the outage."}
    )

    pending.refresh_from_db()
    assert pending.status == "active"
    assert pending.emergency
    assert "access_request.active" in ledger_actions(pending)
