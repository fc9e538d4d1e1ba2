"""A re-authentication that interrupts a form loses nothing typed, and keeps no secret: the rotation
page opened after a step-up stays valid for PORTAL_SECRET_FORM_MINUTES (a signed token in the page),
and past that the review is kept while the new root password is asked again (issue 11, item 3).
The step-up page names what it confirms."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass import secrets
from breakglass.models import AccessRequest, RootCredential
from breakglass.tests.lifecycle_helpers import approve, returned
from breakglass.tests.views.support import NEW_PASSWORD, page, url
from portal.identity import FORM_TOKEN_FIELD, STEP_UP_PURPOSE_KEY
from portal.testing import step_up

pytestmark = pytest.mark.django_db

REVIEW = "All in scope of the task; nothing to follow up."


def _token(html: str) -> str:
    found = re.search(rf'name="{FORM_TOKEN_FIELD}" value="([^"]+)"', html)
    assert found, "the rotation page carries no step-up token"
    return found.group(1)


def _rotation(token: str | None = None) -> dict[str, str]:
    data = {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD, "review_note": REVIEW}
    if token is not None:
        data[FORM_TOKEN_FIELD] = token
    return data


def test_a_rotation_form_sent_after_the_step_up_window_is_still_accepted(
    signed_in: Callable[..., Client], approver: Any, custodian: Any, pending: AccessRequest, settings: Any
) -> None:
    returned(pending, approver)
    client = signed_in(custodian, stepped_up=True)
    token = _token(page(client.get(url("request_confirm_rotation", pending))))
    # Typing took longer than the step-up window.
    step_up(client, custodian, at=time.time() - settings.ACCOUNT_REAUTHENTICATION_TIMEOUT - 60)

    response = client.post(url("request_confirm_rotation", pending), _rotation(token))

    assert response["Location"] == url("request_detail", pending)
    pending.refresh_from_db()
    assert pending.status == "closed"
    credential = RootCredential.objects.get(account=pending.account)
    assert secrets.reveal_root_password(credential=credential) == NEW_PASSWORD


def test_past_the_form_s_time_the_review_is_kept_and_only_the_password_is_asked_again(
    signed_in: Callable[..., Client], approver: Any, custodian: Any, pending: AccessRequest, settings: Any
) -> None:
    returned(pending, approver)
    client = signed_in(custodian, stepped_up=True)
    token = _token(page(client.get(url("request_confirm_rotation", pending))))
    settings.PORTAL_SECRET_FORM_MINUTES = 0  # the token has expired
    step_up(client, custodian, at=time.time() - settings.ACCOUNT_REAUTHENTICATION_TIMEOUT - 60)
    time.sleep(1.1)

    response = client.post(url("request_confirm_rotation", pending), _rotation(token))

    assert response["Location"] == url("request_confirm_rotation", pending)
    pending.refresh_from_db()
    assert pending.status == "returned"
    assert NEW_PASSWORD not in str(dict(client.session.items()))
    # After confirming it is them, the form comes back with the review typed.
    step_up(client, custodian)
    html = page(client.get(url("request_confirm_rotation", pending)))
    assert REVIEW in html
    assert NEW_PASSWORD not in html
    assert "enter that again afterwards" in html


def test_a_token_is_useless_in_another_session_or_for_another_person(
    signed_in: Callable[..., Client],
    approver: Any,
    custodian: Any,
    administrator: Any,
    pending: AccessRequest,
) -> None:
    returned(pending, approver)
    token = _token(page(signed_in(custodian, stepped_up=True).get(url("request_confirm_rotation", pending))))
    for other in (signed_in(custodian), signed_in(administrator)):
        response = other.post(url("request_confirm_rotation", pending), _rotation(token))
        assert response["Location"] == url("request_confirm_rotation", pending)
    pending.refresh_from_db()
    assert pending.status == "returned"


def test_the_step_up_page_names_the_action_and_the_request(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    client = signed_in(approver)
    decide = url("request_decide", pending)

    response = client.post(decide, {"decision": "approve", "comment": "Fine."})

    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    html = page(client.get(response["Location"]))
    assert f"Approve {pending.code} on {pending.account.name}" in html
    # What it confirms travels in the session, never in the address.
    assert pending.code not in response["Location"]
    assert client.session[STEP_UP_PURPOSE_KEY]["text"] == f"Approve {pending.code} on {pending.account.name}"


def test_a_denial_is_named_as_such_and_a_stale_purpose_labels_no_other_step_up(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    client = signed_in(approver)
    response = client.post(url("request_decide", pending), {"decision": "deny", "comment": "No ticket."})
    assert f"Deny {pending.code}" in page(client.get(response["Location"]))
    # The same page reached for something else says nothing about the request.
    other = page(client.get(reverse("mfa_reauthenticate") + "?next=/accounts/2fa/"))
    assert pending.code not in other


def test_check_out_names_what_it_confirms(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest
) -> None:
    approve(pending, approver)
    client = signed_in(requester)
    response = client.post(url("request_check_out", pending))
    assert f"Check out {pending.code} on {pending.account.name}" in page(client.get(response["Location"]))
