"""Who the API believes: a live token in the Authorization header, never a session, never a token in
the URL; refusals as problem details; the rate per token; tokens kept out of logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from api import ratelimit
from api.choices import Scope
from api.tests.conftest import ApiClient

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/accounts"
REQUESTS = "/api/v1/requests"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The RFC 9457 shape: its media type, and type, title, status, detail (plus our request id)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response.content)
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_a_call_without_a_token_is_refused_with_401_and_a_bearer_challenge() -> None:
    response = Client().get(ACCOUNTS)
    body = assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in body["detail"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_signed_in_session_is_not_accepted_for_reads_or_writes(
    method: str, requester: Any, account: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(requester)
    response = getattr(client, method)(REQUESTS, {}, content_type="application/json")
    assert_problem(response, 401)


def test_a_token_in_the_query_string_is_not_read(requester: Any, make_token: Callable[..., str]) -> None:
    token = make_token(requester, Scope.READ_INVENTORY)
    for name in ("token", "access_token", "api_key"):
        assert_problem(Client().get(ACCOUNTS, {name: token}), 401)


def test_an_unknown_or_malformed_token_is_refused_without_saying_which(
    requester: Any, make_token: Callable[..., str]
) -> None:
    real = make_token(requester, Scope.READ_INVENTORY)
    kind, prefix, secret = real.split("_", 2)
    for wrong in (f"{kind}_{prefix}_{secret[:-2]}xx", f"{kind}_000000000000_{secret}", "bgp_", "nonsense"):
        body = assert_problem(ApiClient(wrong).get(ACCOUNTS), 401)
        assert body["detail"] == "The token is not valid."


def test_a_token_with_another_scheme_is_not_accepted(requester: Any, make_token: Callable[..., str]) -> None:
    token = make_token(requester, Scope.READ_INVENTORY)
    response = Client().get(ACCOUNTS, headers={"Authorization": f"Token {token}"})
    assert_problem(response, 401)


def test_a_live_token_reads(requester: Any, api_as: Callable[..., ApiClient], account: Any) -> None:
    response = api_as(requester, Scope.READ_INVENTORY).get(ACCOUNTS)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(response.content) == {"items": [], "next": None}


def test_each_token_has_its_own_rate_and_is_told_when_to_retry(
    requester: Any, api_as: Callable[..., ApiClient], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PORTAL_API_RATE_PER_MINUTE = 3
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_040.0)  # 40 s into a window
    first, second = api_as(requester, Scope.READ_INVENTORY), api_as(requester, Scope.READ_INVENTORY)
    assert [first.get(ACCOUNTS).status_code for _ in range(3)] == [200, 200, 200]
    refused = first.get(ACCOUNTS)
    body = assert_problem(refused, 429)
    assert refused["Retry-After"] == "20"
    assert "Retry after 20 seconds" in body["detail"]
    assert second.get(ACCOUNTS).status_code == 200  # another token, another count

    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_061.0)  # the next window
    assert first.get(ACCOUNTS).status_code == 200


def test_no_token_reaches_a_log_line(
    requester: Any,
    make_token: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
    account: Any,
    settings: Any,
) -> None:
    settings.DEBUG = True  # where Django Ninja would log a header with another scheme
    token = make_token(requester, Scope.READ_INVENTORY, Scope.WRITE_REQUESTS)
    caplog.set_level(logging.DEBUG)
    Client().get(ACCOUNTS, headers={"Authorization": f"Token {token}"})
    client = ApiClient(token)
    client.get(ACCOUNTS)
    client.post(REQUESTS, {"account_id": "123456789012"})  # invalid: 400
    client.post(
        REQUESTS,
        {
            "account_id": "123456789012",
            "root_task": "close_account",
            "justification": "x" * 30,
            "duration_minutes": 30,
        },
    )  # no grant: 409
    ApiClient(token + "x").get(ACCOUNTS)  # 401
    secret = token.split("_", 2)[2]
    assert caplog.records
    assert not [record for record in caplog.records if secret in record.getMessage()]


def test_a_session_without_mfa_gets_a_problem_not_the_enrolment_redirect(requester: Any) -> None:
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=requester).delete()
    client = Client()
    client.force_login(requester)
    assert client.get("/inventory/accounts/").status_code == 302  # the pages send them to MFA set-up
    assert_problem(client.get(ACCOUNTS), 401)  # the API has no page to send a script to
