"""Who is calling the API: a personal token in ``Authorization: Bearer``, and nothing else.

The API takes no session cookie, for reads or writes: a browser never adds the header by itself, so
no other site can make a signed-in person's browser call the API (no CSRF to guard), and a stolen
session cannot mint calls that skip the pages' step-up. Tokens never travel in URLs: a token in the
query string is not read.

Each call: the token is checked (``services.api_token_authenticate``), counted against the rate
(``ratelimit``), its last use noted, and its person must hold a role and MFA (``may_use_portal``);
then the endpoint asks :func:`caller` for its scope and the page's policy question, on the token's
person as they are at this moment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from api import ratelimit, services
from api.choices import LEDGERED_SCOPES, Scope
from api.models import ApiToken
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class ApiRefusalError(Exception):
    """A refusal with its HTTP status, turned into problem details by the API's handler."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        retry_after: int | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.errors = errors


class TokenAuth(HttpBearer):
    """Bearer tokens (``bgp_...``) made on the API tokens page."""

    def __call__(self, request: HttpRequest) -> ApiToken | None:
        # Ninja's own version logs the whole header when the scheme is not Bearer (in DEBUG): a
        # token sent as "Token bgp_..." would land in the log.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        try:
            found = services.api_token_authenticate(presented=token.strip())
        except services.TokenRefusedError as refused:
            raise ApiRefusalError(401, refused.message) from None
        wait = ratelimit.seconds_to_wait(found.prefix)
        if wait:
            raise ApiRefusalError(
                429,
                f"This token made more than {settings.PORTAL_API_RATE_PER_MINUTE} calls this minute. "
                f"Retry after {wait} seconds.",
                retry_after=wait,
            )
        services.api_token_touch(token=found)
        # Before anything else is read (the body included): a person without a role, or without
        # MFA, gets nothing through a token, as the pages give them nothing.
        if not policy.may_use_portal(found.user):
            raise ApiRefusalError(
                403,
                "The token's owner holds no role in the portal, or has no MFA enrolled: nothing is allowed.",
            )
        return found


def caller(
    request: HttpRequest,
    *scopes: Scope,
    allowed: Callable[[Any], bool] | None = None,
    writes: bool = False,
) -> User:
    """The token's person, once the token holds one of ``scopes`` and the person passes the portal's
    own question (``allowed``, the same policy function as the page's decorator) today.

    ``writes``: the call changes something or sends evidence out; its use is a ledger entry written
    before the endpoint acts.
    """
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    held = [scope for scope in scopes if scope in token.scopes]
    if not held:
        wanted = " or ".join(scopes)
        raise ApiRefusalError(403, f"This token lacks the scope {wanted}. Make a token with it.")
    user = token.user
    if allowed is not None and not allowed(user):
        raise ApiRefusalError(403, "The token's owner is not allowed to do this.")
    if writes:
        for scope in held:
            if scope in LEDGERED_SCOPES:
                services.api_token_record_use(
                    token=token, scope=scope, method=request.method or "", path=request.path
                )
                break
    return user
