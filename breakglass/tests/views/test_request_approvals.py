"""``request_approvals``: what waits for an approver's decision, emergency sessions included, and
never the approver's own request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from breakglass import lifecycle
from breakglass.models import AccessRequest
from breakglass.tests.factories import GrantFactory
from breakglass.tests.lifecycle_helpers import make_request
from breakglass.tests.views.support import ledger_actions, listed, page, url

pytestmark = pytest.mark.django_db


def test_an_approver_sees_what_waits_for_their_decision_until_they_decide(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    client = signed_in(approver)
    assert listed(pending, page(client.get(url("request_approvals"))))
    lifecycle.access_request_decide(
        request=pending, approver=approver, decision="deny", comment="No change ticket."
    )
    assert not listed(pending, page(client.get(url("request_approvals"))))


def test_an_emergency_session_waits_for_approvals_afterwards(
    signed_in: Callable[..., Client], requester: Any, approver: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    emergency = lifecycle.access_request_self_authorise(
        request=make_request(requester, account),
        requester=requester,
        reason="Nobody answers the phone tonight.",
    )
    client = signed_in(approver, stepped_up=True)
    assert listed(emergency, page(client.get(url("request_approvals"))))
    assert "Approve afterwards (emergency session)" in page(client.get(url("request_detail", emergency)))

    client.post(url("request_decide", emergency), {"decision": "approve", "comment": "Confirmed by phone."})

    emergency.refresh_from_db()
    assert emergency.emergency_approved_at is not None
    assert "access_request.emergency_approved" in ledger_actions(emergency)
    assert not listed(emergency, page(client.get(url("request_approvals"))))


def test_nobody_is_asked_to_approve_their_own_request(
    signed_in: Callable[..., Client], approver: Any, account: Any
) -> None:
    own = make_request(approver, account)
    client = signed_in(approver)
    assert not listed(own, page(client.get(url("request_approvals"))))
    assert 'value="approve"' not in page(client.get(url("request_detail", own)))
