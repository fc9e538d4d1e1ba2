"""``request_check_out``: the requester checks out an approved request after re-authenticating;
the ledger records ``access_request.active``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import AccessRequest
from breakglass.tests.lifecycle_helpers import approve, make_request, returned
from breakglass.tests.views.support import ledger_actions, page, url

pytestmark = pytest.mark.django_db


def test_checking_out_needs_a_fresh_re_authentication(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest
) -> None:
    approve(pending, approver)
    response = signed_in(requester).post(url("request_check_out", pending))
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    pending.refresh_from_db()
    assert pending.status == "approved"


def test_the_requester_checks_out_an_approved_request(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest
) -> None:
    approve(pending, approver)
    client = signed_in(requester, stepped_up=True)
    assert "Check out" in page(client.get(url("request_detail", pending)))

    client.post(url("request_check_out", pending))

    pending.refresh_from_db()
    assert pending.status == "active"
    assert ledger_actions(pending)[-1] == "access_request.active"
    assert "left" in page(client.get(url("request_detail", pending)))


def test_a_check_out_while_the_password_awaits_rotation_is_refused_with_the_reason(
    signed_in: Callable[..., Client], requester: Any, approver: Any, portal_account: Any
) -> None:
    returned(make_request(requester, portal_account), approver)
    second = approve(make_request(requester, portal_account), approver)
    response = signed_in(requester, stepped_up=True).post(url("request_check_out", second), follow=True)
    assert "a custodian must confirm the rotation first" in page(response)
    second.refresh_from_db()
    assert second.status == "approved"
