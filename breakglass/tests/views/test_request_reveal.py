"""``request_reveal``: only the holder, freshly re-authenticated, sees the password, in the POST
response only; the ledger records ``access_request.password_revealed``. A physical password shows
the safe and envelope instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import AccessRequest, SecretReveal
from breakglass.tests.factories import PhysicalCredentialFactory
from breakglass.tests.lifecycle_helpers import active, make_request
from breakglass.tests.views.support import PASSWORD, ledger_actions, page, url

pytestmark = pytest.mark.django_db


def test_the_holder_reveals_the_password_in_the_post_response_only(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest, settings: Any
) -> None:
    settings.PORTAL_REVEAL_SECONDS = 15
    active(pending, approver)
    client = signed_in(requester, stepped_up=True)
    before = page(client.get(url("request_detail", pending)))
    assert "Reveal the root password" in before
    assert PASSWORD not in before

    response = client.post(url("request_reveal", pending))

    assert response.status_code == 200
    assert PASSWORD in page(response)
    assert "no-store" in response["Cache-Control"]
    assert 'data-reveal-seconds="15"' in page(response)
    assert SecretReveal.objects.filter(request=pending, user=requester).count() == 1
    assert ledger_actions(pending)[-1] == "access_request.password_revealed"
    after = page(client.get(url("request_detail", pending)))
    assert PASSWORD not in after
    assert "Revealed the root password" in after


def test_revealing_needs_a_fresh_re_authentication(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest
) -> None:
    active(pending, approver)
    response = signed_in(requester).post(url("request_reveal", pending))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert PASSWORD not in page(response)
    assert not SecretReveal.objects.exists()


@pytest.mark.parametrize("persona", ["custodian", "administrator", "approver"])
def test_nobody_but_the_holder_can_reveal_the_password(
    request: Any,
    signed_in: Callable[..., Client],
    approver: Any,
    pending: AccessRequest,
    persona: str,
) -> None:
    active(pending, approver)
    client = signed_in(request.getfixturevalue(persona), stepped_up=True)
    assert "Reveal the root password" not in page(client.get(url("request_detail", pending)))

    response = client.post(url("request_reveal", pending), follow=True)

    assert PASSWORD not in page(response)
    assert "Only the holder of the check-out can reveal the password." in page(response)
    assert not SecretReveal.objects.exists()


def test_a_physical_password_shows_the_safe_and_envelope_instead(
    signed_in: Callable[..., Client], requester: Any, approver: Any, account: Any
) -> None:
    PhysicalCredentialFactory(account=account, safe_location="Safe B, shelf 1", envelope_number="ENV-0042")
    session = active(make_request(requester, account), approver)
    html = page(signed_in(requester).get(url("request_detail", session)))
    assert "Safe B, shelf 1" in html
    assert "ENV-0042" in html
    assert "Reveal the root password" not in html
    assert "New envelope seal number" in html
