"""Every operation of the schema against every scope: a token without one of the scopes an operation
names is refused before anything is looked up, one with it gets past the scope check. And no token
can approve, check out, hand over, reveal, check in, rotate or revoke: there is no such operation, and
the pages that do it do not take tokens."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from api.choices import Scope
from api.models import ApiToken
from api.tests.conftest import ApiClient
from api.v1 import api
from breakglass.choices import RequestStatus
from breakglass.tests.lifecycle_helpers import approve, make_request

pytestmark = pytest.mark.django_db

DANGEROUS = (
    "approve",
    "decide",
    "deny",
    "check-out",
    "checkout",
    "hand-over",
    "handover",
    "reveal",
    "check-in",
    "checkin",
    "rotation",
    "rotate",
    "revoke",
    "self-authorise",
    "acknowledge",
    "password",
)


def _schema() -> dict[str, Any]:
    return api.get_openapi_schema(path_prefix="/api/v1/")


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in _schema()["paths"].items()
        for method, operation in item.items()
    ]


def _sample(spec: dict[str, Any], components: dict[str, Any]) -> Any:
    if "$ref" in spec:
        return _body(components[spec["$ref"].rpartition("/")[2]], components)
    if spec.get("type") == "integer":
        return 30
    if spec.get("pattern") == "^[0-9]{12}$":
        return "123456789012"
    return "a value long enough for any minimum length"[: spec.get("maxLength", 100)]


def _body(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    return {
        name: _sample(spec, components)
        for name, spec in schema.get("properties", {}).items()
        if name in schema.get("required", [])
    }


def _call(client: ApiClient, method: str, path: str, operation: dict[str, Any]) -> Any:
    url = re.sub(r"\{uuid\}", str(uuid.uuid4()), path).replace("{name}", "findings").replace("{fmt}", "json")
    if method == "get":
        return client.get(url)
    components = _schema()["components"]["schemas"]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    return client.post(
        url,
        _body({"properties": {"b": content["schema"]}, "required": ["b"]}, components)["b"]
        if content
        else {},
    )


def test_every_operation_names_its_scopes() -> None:
    operations = _operations()
    assert len(operations) >= 13
    for method, path, operation in operations:
        assert operation.get("x-scopes"), f"{method.upper()} {path} names no scope"
        assert set(operation["x-scopes"]) <= {str(scope) for scope in Scope}
        assert operation["security"] == [{"TokenAuth": []}]


@pytest.mark.parametrize(
    ("method", "path", "operation"), _operations(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_an_operation_refuses_every_token_without_its_scope(
    method: str, path: str, operation: dict[str, Any], administrator: Any, make_token: Callable[..., str]
) -> None:
    accepted = set(operation["x-scopes"])
    others = [scope for scope in Scope if scope not in accepted]
    without = ApiClient(make_token(administrator, *others)) if others else None
    if without is not None:
        refused = _call(without, method, path, operation)
        assert refused.status_code == 403, (method, path, refused.content)
        assert "lacks the scope" in refused.json()["detail"]
    for scope in accepted:
        allowed = _call(ApiClient(make_token(administrator, Scope(scope))), method, path, operation)
        assert allowed.status_code != 403, (method, path, scope, allowed.content)
        assert allowed.status_code < 500


def test_there_is_no_operation_to_approve_check_out_hand_over_reveal_or_rotate() -> None:
    for method, path, operation in _operations():
        words = f"{path} {operation['operationId']}".lower()
        assert not [word for word in DANGEROUS if word in words], f"{method.upper()} {path}"
    writes = {(method, path) for method, path, _ in _operations() if method != "get"}
    assert writes == {
        ("post", "/api/v1/requests"),
        ("post", "/api/v1/requests/{uuid}/cancel"),
        ("post", "/api/v1/findings/{uuid}/triage"),
        ("post", "/api/v1/exports"),  # starts an export job, recorded in the ledger
    }


@pytest.fixture
def approved(requester: Any, approver: Any, account: Any) -> Any:
    return approve(make_request(requester, account), approver)


@pytest.mark.parametrize(
    "action",
    [
        "decide",
        "approve",
        "check-out",
        "hand-over",
        "reveal",
        "check-in",
        "rotation",
        "revoke",
        "self-authorise",
    ],
)
def test_no_token_with_every_scope_reaches_a_dangerous_action_through_the_api(
    action: str, approved: Any, administrator: Any, requester: Any, make_token: Callable[..., str]
) -> None:
    for user in (administrator, requester):
        client = ApiClient(make_token(user))
        response = client.post(f"/api/v1/requests/{approved.uuid}/{action}", {"decision": "approve"})
        assert response.status_code in (404, 405)
    approved.refresh_from_db()
    assert approved.status == RequestStatus.APPROVED


@pytest.mark.parametrize(
    "page",
    [
        "request_decide",
        "request_check_out",
        "request_hand_over",
        "request_reveal",
        "request_check_in",
        "request_confirm_rotation",
        "request_revoke",
        "request_self_authorise",
        "request_cancel",
    ],
)
def test_the_pages_that_act_on_a_request_do_not_take_a_token(
    page: str, approved: Any, requester: Any, administrator: Any, make_token: Callable[..., str]
) -> None:
    for user in (requester, administrator):
        token = make_token(user)
        url = reverse(f"breakglass:{page}", kwargs={"uuid": approved.uuid})
        for method in ("get", "post"):
            response = getattr(Client(), method)(url, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code in (302, 405)
            if response.status_code == 302:
                assert response["Location"].startswith(reverse("account_login"))
    approved.refresh_from_db()
    assert approved.status == RequestStatus.APPROVED
    assert ApiToken.objects.filter(last_used_at__isnull=False).count() == 0
