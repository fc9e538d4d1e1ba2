"""``request_confirm_rotation``: a stepped-up custodian sets the new password and reviews the
session; the ledger records the rotation and the closing. Passwords are never echoed or kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass import secrets
from breakglass.models import AccessRequest, RootCredential
from breakglass.tests.lifecycle_helpers import returned
from breakglass.tests.views.support import NEW_PASSWORD, ledger_actions, page, url

pytestmark = pytest.mark.django_db


def test_the_rotation_page_asks_for_a_re_authentication_first(
    signed_in: Callable[..., Client], requester: Any, approver: Any, custodian: Any, pending: AccessRequest
) -> None:
    returned(pending, approver)
    response = signed_in(custodian).get(url("request_confirm_rotation", pending))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


def test_a_new_password_posted_without_a_fresh_re_authentication_is_not_kept_anywhere(
    signed_in: Callable[..., Client], approver: Any, custodian: Any, pending: AccessRequest
) -> None:
    returned(pending, approver)
    client = signed_in(custodian)
    response = client.post(
        url("request_confirm_rotation", pending),
        {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD, "review_note": "All in scope."},
    )
    assert response.status_code == 302
    assert response["Location"] == url("request_confirm_rotation", pending)
    assert NEW_PASSWORD not in str(dict(client.session.items()))
    pending.refresh_from_db()
    assert pending.status == "returned"


def test_a_custodian_confirms_the_rotation_and_closes_the_session(
    signed_in: Callable[..., Client], approver: Any, custodian: Any, pending: AccessRequest
) -> None:
    returned(pending, approver)
    client = signed_in(custodian, stepped_up=True)
    assert "Confirm rotation and review" in page(client.get(url("request_detail", pending)))
    form = page(client.get(url("request_confirm_rotation", pending)))
    assert 'type="password"' in form

    response = client.post(
        url("request_confirm_rotation", pending),
        {
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
            "review_note": "All in scope of the task.",
        },
    )

    assert response["Location"] == url("request_detail", pending)
    pending.refresh_from_db()
    assert pending.status == "closed"
    credential = RootCredential.objects.get(account=pending.account)
    assert not credential.rotation_required
    assert secrets.reveal_root_password(credential=credential) == NEW_PASSWORD
    assert ledger_actions(pending)[-2:] == ["root_credential.rotated", "access_request.closed"]
    html = page(client.get(url("request_detail", pending)))
    assert "All in scope of the task." in html
    assert NEW_PASSWORD not in html


def test_two_different_new_passwords_are_refused_and_not_echoed(
    signed_in: Callable[..., Client], approver: Any, custodian: Any, pending: AccessRequest
) -> None:
    returned(pending, approver)
    response = signed_in(custodian, stepped_up=True).post(
        url("request_confirm_rotation", pending),
        {
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD + "x",
            "review_note": "All in scope.",
        },
    )
    assert response.status_code == 200
    assert "The two passwords differ." in page(response)
    assert NEW_PASSWORD not in page(response)


def test_a_too_short_review_shows_the_service_s_message(
    signed_in: Callable[..., Client], approver: Any, custodian: Any, pending: AccessRequest
) -> None:
    returned(pending, approver)
    response = signed_in(custodian, stepped_up=True).post(
        url("request_confirm_rotation", pending),
        {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD, "review_note": "ok"},
    )
    assert "Write the review: was the work in scope? (at least 10 characters)." in page(response)


def test_the_holder_cannot_review_their_own_session(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest
) -> None:
    returned(pending, approver)
    client = signed_in(requester, stepped_up=True)
    assert "Confirm rotation and review" not in page(client.get(url("request_detail", pending)))
    response = client.post(url("request_confirm_rotation", pending), {"review_note": "Reviewed it myself."})
    assert "The holder cannot review their own session" in page(response)
    pending.refresh_from_db()
    assert pending.status == "returned"
