"""``request_create``: the form offers the accounts with a live grant, the service's refusals come
back on the form, and an emergency grant self-authorises in one step after a re-authentication.
Each filed request writes ``access_request.created`` to the ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from breakglass.models import AccessRequest
from breakglass.tests.factories import GrantFactory
from breakglass.tests.lifecycle_helpers import JUSTIFICATION
from breakglass.tests.views.support import ledger_actions, page, url
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_the_form_offers_only_accounts_with_a_live_grant_and_groups_the_tasks(
    signed_in: Callable[..., Client], requester: Any, account: Any, other_account: Any
) -> None:
    GrantFactory(user=requester, account=account)
    GrantFactory(user=requester, account=other_account, expires_at=timezone.now() - timedelta(minutes=1))
    html = page(signed_in(requester).get(url("request_create")))

    assert "payments-prod (123456789012)" in html
    assert "web-staging" not in html
    assert 'optgroup label="Tasks that need the root password and MFA device"' in html
    assert 'optgroup label="AssumeRoot tasks (short-lived credentials, no password handed out)"' in html
    assert 'data-max-minutes="120"' in html
    # Unlocking a bucket policy is steered to AssumeRoot.
    assert 'data-hint-for="unlock_bucket_policy"' in html
    assert "AssumeRoot: delete an S3 bucket policy that locks everyone out" in html
    # No emergency grant, no emergency option.
    assert "self-authorise" not in html.lower()


def test_someone_without_a_grant_is_told_to_ask_for_one(
    signed_in: Callable[..., Client], requester: Any
) -> None:
    html = page(signed_in(requester).get(url("request_create")))
    assert "You hold no live grant for any account" in html
    assert "New request" not in page(signed_in(requester).get(url("request_list")))


def request_form(account: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "account": account.pk,
        "root_task": "close_account",
        "justification": JUSTIFICATION,
        "ticket_reference": "CHG-1234",
        "starts_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": 60,
        **overrides,
    }


def test_a_requester_files_a_request_and_lands_on_its_page(
    signed_in: Callable[..., Client], requester: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account)
    response = signed_in(requester).post(url("request_create"), request_form(account))

    created = AccessRequest.objects.get(requester=requester)
    assert response.status_code == 302
    assert response["Location"] == url("request_detail", created)
    assert created.status == "pending"
    assert created.ticket_reference == "CHG-1234"
    assert ledger_actions(created) == ["access_request.created"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"justification": "because"}, "Explain why root is needed in at least 20 characters."),
        ({"ticket_reference": ""}, "requires a ticket reference (change or incident number)."),
        ({"duration_minutes": 500}, "allows at most 120 minutes."),
        ({"root_task": "other"}, "Say which root task this is (at least 10 characters)."),
    ],
)
def test_the_service_s_refusal_comes_back_on_the_form(
    signed_in: Callable[..., Client], requester: Any, account: Any, overrides: dict[str, Any], message: str
) -> None:
    GrantFactory(user=requester, account=account)
    response = signed_in(requester).post(url("request_create"), request_form(account, **overrides))
    assert response.status_code == 200
    assert message in page(response)
    assert 'role="alert"' in page(response)
    assert not AccessRequest.objects.exists()


def test_an_emergency_request_needs_a_fresh_re_authentication(
    signed_in: Callable[..., Client], requester: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    response = signed_in(requester).post(
        url("request_create"),
        request_form(account, emergency="on", emergency_reason="Both approvers are on a plane right now."),
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not AccessRequest.objects.exists()


def test_a_person_with_an_emergency_grant_self_authorises_in_one_step(
    signed_in: Callable[..., Client], requester: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    client = signed_in(requester, stepped_up=True)
    assert "Emergency: self-authorise now" in page(client.get(url("request_create")))

    response = client.post(
        url("request_create"),
        request_form(account, emergency="on", emergency_reason="Both approvers are on a plane right now."),
    )

    created = AccessRequest.objects.get(requester=requester)
    assert response.status_code == 302
    assert created.status == "active"
    assert created.emergency
    assert ledger_actions(created) == ["access_request.created", "access_request.active"]
    html = page(client.get(url("request_detail", created)))
    assert "Emergency" in html
    assert "approvals outstanding" in html
    assert "Self-authorised in an emergency" in html


def test_a_refused_self_authorisation_leaves_no_request_behind(
    signed_in: Callable[..., Client], requester: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    response = signed_in(requester, stepped_up=True).post(
        url("request_create"), request_form(account, emergency="on", emergency_reason="hurry")
    )
    assert response.status_code == 200
    assert "Say why approvers cannot be reached (at least 20 characters)." in page(response)
    assert not AccessRequest.objects.exists()
    assert not LedgerEntry.objects.filter(action__startswith="access_request.").exists()
