"""``request_decide``: approving and denying after an MFA re-authentication, the service's messages
on the page, and the ledger entries each decision writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import AccessRequest, Approval
from breakglass.tests.factories import GrantFactory
from breakglass.tests.lifecycle_helpers import make_request
from breakglass.tests.views.support import ledger_actions, page, url
from portal.testing import step_up

pytestmark = pytest.mark.django_db


def test_approving_needs_a_fresh_mfa_re_authentication(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    response = signed_in(approver).post(
        url("request_decide", pending), {"decision": "approve", "comment": "Agreed in the CAB."}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not Approval.objects.exists()
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_a_password_re_authentication_does_not_let_an_approver_decide(
    approver: Any, pending: AccessRequest
) -> None:
    client = Client()
    client.force_login(approver)
    step_up(client, approver, method="password")
    client.post(url("request_decide", pending), {"decision": "approve", "comment": "Agreed in the CAB."})
    assert not Approval.objects.exists()


def test_an_approver_approves_after_stepping_up(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    client = signed_in(approver, stepped_up=True)
    assert 'value="approve"' in page(client.get(url("request_detail", pending)))

    response = client.post(
        url("request_decide", pending), {"decision": "approve", "comment": "Agreed in the CAB."}
    )

    assert response.status_code == 302
    assert response["Location"] == url("request_detail", pending)
    pending.refresh_from_db()
    assert pending.status == "approved"
    assert ledger_actions(pending) == [
        "access_request.created",
        "access_request.decision",
        "access_request.approved",
    ]
    html = page(client.get(url("request_detail", pending)))
    assert "Agreed in the CAB." in html
    assert "You approved" in html


def test_a_decision_without_a_comment_shows_the_service_s_message(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    response = signed_in(approver, stepped_up=True).post(
        url("request_decide", pending), {"decision": "deny", "comment": "  "}
    )
    assert response.status_code == 200
    assert "Say why you decide so; the comment goes into the evidence." in page(response)
    assert not Approval.objects.exists()


def test_an_approver_denies_and_the_request_is_denied(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    signed_in(approver, stepped_up=True).post(
        url("request_decide", pending), {"decision": "deny", "comment": "No change ticket for this."}
    )
    pending.refresh_from_db()
    assert pending.status == "denied"
    assert ledger_actions(pending)[-1] == "access_request.denied"


def test_deciding_twice_is_refused_with_the_reason(
    signed_in: Callable[..., Client], approver: Any, second_approver: Any, requester: Any, account: Any
) -> None:
    account.approvers.add(second_approver)
    account.approval_quorum = 2
    account.save()
    GrantFactory(user=requester, account=account)
    request = make_request(requester, account)
    client = signed_in(approver, stepped_up=True)
    client.post(url("request_decide", request), {"decision": "approve", "comment": "Fine by me."})
    response = client.post(url("request_decide", request), {"decision": "approve", "comment": "Again."})
    assert "You have already decided on this request." in page(response)
    assert Approval.objects.count() == 1
