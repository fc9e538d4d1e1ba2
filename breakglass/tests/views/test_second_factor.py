"""Issue 8, item 1: a password alone never releases a root password.

Everyone who can receive a root password or an MFA device (requesters included) has MFA before the
first request, and every check-out and reveal needs a fresh second factor: a fresh password
re-authentication is not enough.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from breakglass.models import AccessRequest, SecretReveal
from breakglass.tests.factories import GrantFactory
from breakglass.tests.lifecycle_helpers import JUSTIFICATION, approve
from breakglass.tests.views.support import PASSWORD, page, url
from portal import policy
from portal.identity import recently_stepped_up
from portal.policy import Role
from portal.testing import step_up

pytestmark = pytest.mark.django_db


def test_a_requester_without_mfa_cannot_break_glass_with_a_stolen_password(
    client: Client, make_persona: Callable[..., Any], portal_account: Any
) -> None:
    """The attack: the requester's password alone (no MFA enrolled), a fresh password
    re-authentication, an emergency request on the production account, reveal."""
    rita = make_persona("rita.stolen", Role.REQUESTER, mfa=False)
    GrantFactory(user=rita, account=portal_account, emergency=True)
    client.force_login(rita)
    step_up(client, rita, method="password")

    created = client.post(
        reverse("breakglass:request_create"),
        {
            "account": portal_account.pk,
            "root_task": "close_account",
            "justification": JUSTIFICATION,
            "ticket_reference": "INC-1",
            "starts_at": timezone.now().strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 30,
            "emergency": "on",
            "emergency_reason": "Production is down and only root can fix it.",
        },
    )
    session = AccessRequest.objects.filter(requester=rita).first()
    if session is not None:
        client.post(url("request_reveal", session))

    assert created.status_code == 302
    assert created["Location"] == reverse("mfa_index") + "?required=1"
    assert session is None
    assert not SecretReveal.objects.exists()


def test_a_requester_must_enrol_mfa_before_the_first_request(
    client: Client, make_persona: Callable[..., Any]
) -> None:
    rita = make_persona("rita.new", Role.REQUESTER, mfa=False)
    client.force_login(rita)
    assert not policy.may_use_portal(rita)
    response = client.get(reverse("breakglass:request_create"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index") + "?required=1"


def test_requester_personas_have_mfa(requester: Any) -> None:
    assert requester.totp_secret
    assert policy.may_use_portal(requester)


def test_a_password_re_authentication_does_not_check_out(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest
) -> None:
    approve(pending, approver)
    client = signed_in(requester)
    step_up(client, requester, method="password")

    response = client.post(url("request_check_out", pending))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    pending.refresh_from_db()
    assert pending.status == "approved"


def test_a_password_re_authentication_does_not_reveal(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest
) -> None:
    approve(pending, approver)
    client = signed_in(requester)
    step_up(client, requester, method="mfa")
    assert client.post(url("request_check_out", pending)).status_code == 302
    step_up(client, requester, method="password")

    response = client.post(url("request_reveal", pending))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert PASSWORD not in page(response)
    assert not SecretReveal.objects.exists()


def test_without_mfa_no_re_authentication_counts_as_step_up(
    client: Client, make_persona: Callable[..., Any], rf: Any
) -> None:
    person = make_persona("nobody.mfa", Role.REQUESTER, mfa=False)
    client.force_login(person)
    step_up(client, person, method="password")
    request = rf.get("/")
    request.user = person
    request.session = client.session
    assert not recently_stepped_up(request)
