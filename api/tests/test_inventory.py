"""Accounts and requests through the API: the pages' selectors decide what a token sees, the lifecycle's
services what it may change; a request filed by API waits for people in the browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from api.choices import Scope
from api.tests.conftest import ApiClient
from breakglass import lifecycle, selectors, services
from breakglass.choices import RequestStatus
from breakglass.models import AccessRequest
from breakglass.tests.factories import AwsAccountFactory, GrantFactory, MfaDeviceFactory
from breakglass.tests.lifecycle_helpers import JUSTIFICATION, make_request
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/accounts"
REQUESTS = "/api/v1/requests"


def _ids(response: Any, key: str = "account_id") -> set[str]:
    assert response.status_code == 200, response.content
    return {item[key] for item in response.json()["items"]}


# --- Accounts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["requester", "approver", "custodian", "auditor", "administrator"])
def test_each_persona_sees_through_the_api_exactly_the_accounts_of_the_page(
    persona: str,
    request: pytest.FixtureRequest,
    account: Any,
    requester: Any,
    api_as: Callable[..., ApiClient],
) -> None:
    AwsAccountFactory(name="not-theirs", account_id="555566667777")
    GrantFactory(user=requester, account=account)
    user = request.getfixturevalue(persona)
    seen = _ids(api_as(user, Scope.READ_INVENTORY).get(ACCOUNTS))
    assert seen == {found.account_id for found in selectors.accounts_visible_to(user=user)}
    expected = (
        {"123456789012", "555566667777"} if persona in ("auditor", "administrator") else {"123456789012"}
    )
    assert seen == expected


def test_an_account_shows_its_custody_and_leaves_room_for_posture(
    auditor: Any, administrator: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    services.root_credential_record_physical(
        actor=administrator, account=account, safe_location="Safe B", envelope_number="ENV-7"
    )
    key = MfaDeviceFactory(label="YubiKey Payments")
    services.mfa_device_assign(actor=administrator, device=key, account=account)
    body = api_as(auditor, Scope.READ_INVENTORY).get(f"{ACCOUNTS}/{account.uuid}").json()
    assert body["root_credential"]["storage"] == "physical"
    assert body["root_credential"]["envelope_number"] == "ENV-7"
    assert [device["label"] for device in body["mfa_devices"]] == ["YubiKey Payments"]
    assert body["mfa_devices"][0]["custody_state"] == "in_safe"
    assert body["approvers"] == ["alan.approver"]
    assert body["custodians"] == ["carl.custodian"]
    assert body["posture"] is None
    assert "@" in body["root_email_masked"]
    assert body["root_email_masked"] != account.root_email
    assert body["web_url"].endswith(f"/inventory/accounts/{account.uuid}/")


def test_an_account_the_person_may_not_see_is_not_found(
    requester: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    response = api_as(requester, Scope.READ_INVENTORY).get(f"{ACCOUNTS}/{account.uuid}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


# --- Requests ------------------------------------------------------------------------------------


def _new_request(account_id: str = "123456789012", **overrides: Any) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "root_task": "close_account",
        "justification": JUSTIFICATION,
        "ticket_reference": "CHG-1234",
        "duration_minutes": 60,
        **overrides,
    }


def test_a_request_filed_by_api_waits_for_approvers_and_both_ledger_entries_share_the_call(
    requester: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    GrantFactory(user=requester, account=account)
    response = api_as(requester, Scope.WRITE_REQUESTS).post(REQUESTS, _new_request())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == RequestStatus.PENDING
    assert body["requester"] == "rita.requester"
    assert body["web_url"].endswith(f"/inventory/requests/{body['uuid']}/")
    created = AccessRequest.objects.get(uuid=body["uuid"])
    assert created.ticket_reference == "CHG-1234"

    used = LedgerEntry.objects.get(action="api_token.used")
    filed = LedgerEntry.objects.get(action="access_request.created")
    assert used.data["scope"] == "write:requests"
    assert used.data["method"] == "POST"
    assert (used.actor_id, filed.actor_id) == (requester.pk, requester.pk)
    assert used.request_id == filed.request_id == response["X-Request-ID"]
    assert used.sequence < filed.sequence  # the token's use is written before the change


def test_a_rule_of_the_lifecycle_comes_back_as_409_with_its_own_words(
    requester: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    GrantFactory(user=requester, account=account)
    response = api_as(requester, Scope.WRITE_REQUESTS).post(
        REQUESTS, _new_request(justification="too short", duration_minutes=100_000)
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["errors"]["justification"] == ["Explain why root is needed in at least 20 characters."]
    assert "allows at most" in problem["errors"]["duration_minutes"][0]
    assert not AccessRequest.objects.exists()


def test_a_malformed_body_is_a_400_naming_the_fields(
    requester: Any, api_as: Callable[..., ApiClient]
) -> None:
    response = api_as(requester, Scope.WRITE_REQUESTS).post(
        REQUESTS, {"account_id": "12", "duration_minutes": "x"}
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"account_id", "root_task", "justification", "duration_minutes"} <= set(errors)


def test_an_account_without_a_grant_is_refused_whether_or_not_it_exists(
    requester: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    client = api_as(requester, Scope.WRITE_REQUESTS)
    existing = client.post(REQUESTS, _new_request())
    missing = client.post(REQUESTS, _new_request(account_id="000011112222"))
    assert existing.status_code == missing.status_code == 409
    assert existing.json()["detail"] == missing.json()["detail"]


def test_a_requesters_token_cannot_read_anothers_request(
    requester: Any, make_persona: Callable[..., Any], account: Any, api_as: Callable[..., ApiClient]
) -> None:
    from portal.policy import Role

    other = make_persona("rob.requester", Role.REQUESTER)
    theirs = make_request(other, account)
    client = api_as(requester, Scope.READ_INVENTORY, Scope.WRITE_REQUESTS)
    assert client.get(f"{REQUESTS}/{theirs.uuid}").status_code == 404
    assert client.post(f"{REQUESTS}/{theirs.uuid}/cancel").status_code == 404
    assert _ids(client.get(REQUESTS), "code") == set()
    theirs.refresh_from_db()
    assert theirs.status == RequestStatus.PENDING


def test_the_request_list_is_the_pages_list(
    requester: Any, approver: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    mine = make_request(requester, account)
    from breakglass.request_selectors import visible_requests

    assert _ids(api_as(requester, Scope.READ_INVENTORY).get(REQUESTS), "code") == {mine.code}
    approvers = api_as(approver, Scope.READ_INVENTORY)
    assert (
        _ids(approvers.get(REQUESTS), "code")
        == {r.code for r in visible_requests(user=approver)}
        == {mine.code}
    )
    assert _ids(approvers.get(REQUESTS, {"mine": "true"}), "code") == set()
    assert _ids(approvers.get(REQUESTS, {"status": "approved"}), "code") == set()


def test_a_requester_cancels_their_own_request_through_the_service(
    requester: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    pending = make_request(requester, account)
    client = api_as(requester, Scope.WRITE_REQUESTS)
    response = client.post(f"{REQUESTS}/{pending.uuid}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == RequestStatus.CANCELLED
    assert LedgerEntry.objects.filter(action="access_request.cancelled", actor_id=requester.pk).exists()
    again = client.post(f"{REQUESTS}/{pending.uuid}/cancel")
    assert again.status_code == 409
    assert "cancel" in again.json()["detail"].lower()


def test_an_approver_cannot_cancel_someone_elses_request(
    requester: Any, approver: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    pending = make_request(requester, account)
    response = api_as(approver, Scope.WRITE_REQUESTS).post(f"{REQUESTS}/{pending.uuid}/cancel")
    assert response.status_code == 409  # the approver may see it (page rule), not cancel it
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING
    lifecycle.access_request_cancel(request=pending, requester=requester)  # the owner still can


def test_asking_for_an_emergency_through_the_api_files_an_ordinary_pending_request(
    requester: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    response = api_as(requester, Scope.WRITE_REQUESTS).post(
        REQUESTS, _new_request(emergency=True, emergency_reason="Approvers cannot be reached tonight at all.")
    )
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["emergency"]) == (RequestStatus.PENDING, False)
    assert not LedgerEntry.objects.filter(action="access_request.active").exists()


def test_an_assume_root_unlock_request_names_its_bucket_through_the_api(
    requester: Any, approver: Any, api_as: Callable[..., ApiClient]
) -> None:
    centralised = AwsAccountFactory(
        name="data-lake", account_id="222222222222", governance_mode="centralised"
    )
    centralised.approvers.set([approver])
    GrantFactory(user=requester, account=centralised)
    client = api_as(requester, Scope.WRITE_REQUESTS)
    body = {**_new_request(), "account_id": "222222222222", "root_task": "assume_root_s3_unlock"}

    refused = client.post(REQUESTS, body)
    assert refused.status_code == 409
    assert "bucket_name" in refused.json()["errors"]

    created = client.post(REQUESTS, {**body, "bucket_name": "orders-archive"})
    assert created.status_code == 201, created.content
    assert created.json()["bucket_name"] == "orders-archive"
    assert AccessRequest.objects.get().task_bucket_name == "orders-archive"
