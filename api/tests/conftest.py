"""Fixtures of the API tests: an account with its approver and custodian, tokens made through the real
service, and clients that call the API with a token (and no session)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from api.choices import Scope
from api.services import api_token_create
from breakglass.tests.factories import AwsAccountFactory


@pytest.fixture
def account(approver: Any, custodian: Any) -> Any:
    account = AwsAccountFactory(name="payments-prod", account_id="123456789012", approval_quorum=1)
    account.approvers.set([approver])
    account.custodians.set([custodian])
    return account


@pytest.fixture
def make_token() -> Callable[..., str]:
    """A token's plaintext for ``user`` with ``scopes`` (default: every scope the person's roles allow)."""

    def make(user: Any, *scopes: Scope, days: int = 30, name: str = "test tool") -> str:
        from api.scopes import scopes_available

        wanted = [str(scope) for scope in (scopes or scopes_available(user))]
        return api_token_create(
            user=user, name=name, scopes=wanted, expires_at=timezone.now() + timedelta(days=days)
        ).plaintext

    return make


class ApiClient:
    """Calls the API with ``Authorization: Bearer <token>``, nothing else: no cookie, no session."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(path, params or {}, headers=self._headers())

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, body or {}, content_type="application/json", headers=self._headers())


@pytest.fixture
def api_as(make_token: Callable[..., str]) -> Callable[..., ApiClient]:
    """An API client for ``user``'s new token with ``scopes`` (default: all their roles allow)."""

    def make(user: Any, *scopes: Scope) -> ApiClient:
        return ApiClient(make_token(user, *scopes))

    return make
