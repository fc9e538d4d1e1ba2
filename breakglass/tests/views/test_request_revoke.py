"""``request_revoke``: only an administrator revokes, with a reason; the ledger records
``access_request.revoked``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import AccessRequest, RootCredential
from breakglass.tests.lifecycle_helpers import active
from breakglass.tests.views.support import ledger_actions, page, url

pytestmark = pytest.mark.django_db


def test_an_administrator_revokes_an_active_session(
    signed_in: Callable[..., Client],
    requester: Any,
    approver: Any,
    administrator: Any,
    pending: AccessRequest,
) -> None:
    active(pending, approver)
    assert "Revoke" not in page(signed_in(requester).get(url("request_detail", pending)))

    admin = signed_in(administrator, stepped_up=True)
    asked = admin.post(url("request_revoke", pending), {"reason": "Holder left the company."})
    assert f"Revoke {pending.code} on payments-prod?" in page(asked)
    assert "Holder left the company." in page(asked)
    pending.refresh_from_db()
    assert pending.status == "active"

    admin.post(url("request_revoke", pending), {"reason": "Holder left the company.", "confirmed": "yes"})

    pending.refresh_from_db()
    assert pending.status == "revoked"
    assert RootCredential.objects.get(account=pending.account).rotation_required
    assert ledger_actions(pending)[-1] == "access_request.revoked"


def test_a_revocation_without_a_reason_shows_the_service_s_message(
    signed_in: Callable[..., Client], administrator: Any, pending: AccessRequest
) -> None:
    response = signed_in(administrator, stepped_up=True).post(url("request_revoke", pending), {"reason": ""})
    assert "Say why the request is revoked." in page(response)


def test_nobody_but_an_administrator_revokes(
    signed_in: Callable[..., Client], custodian: Any, pending: AccessRequest
) -> None:
    response = signed_in(custodian, stepped_up=True).post(
        url("request_revoke", pending), {"reason": "I do not like it.", "confirmed": "yes"}
    )
    assert "Only an administrator can revoke a request." in page(response)
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_a_confirmed_revocation_without_a_fresh_second_factor_is_sent_to_step_up(
    signed_in: Callable[..., Client], administrator: Any, pending: AccessRequest
) -> None:
    response = signed_in(administrator).post(
        url("request_revoke", pending), {"reason": "Holder left the company.", "confirmed": "yes"}
    )
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    pending.refresh_from_db()
    assert pending.status == "pending"
