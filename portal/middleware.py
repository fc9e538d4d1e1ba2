"""Request id on every request and log line; security headers on every response; idle and absolute
session timeouts; MFA enrolment enforced for privileged roles."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from portal import policy

_request_id: ContextVar[str] = ContextVar("request_id", default="-")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str:
    """The id of the request (or task) being handled, ``-`` outside one."""
    return _request_id.get()


def set_request_id(value: str) -> None:
    _request_id.set(value)


class RequestIdMiddleware:
    """Gives each request an id (or keeps a well-formed ``X-Request-ID`` from a trusted proxy).

    The id is put in every log line and ledger entry so an auditor can tie them together. A client
    must not choose what the ledger records, so the header is only believed when the operator has
    declared a reverse proxy in front (``PORTAL_TRUSTED_PROXY_COUNT``), which sets it itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "") if settings.PORTAL_TRUSTED_PROXY_COUNT else ""
        request_id = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        try:
            request.request_id = request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            return response
        finally:
            _request_id.reset(token)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


# Pages a privileged person without MFA may still reach: enrolment itself, logout, static files.
_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz")


class RequireMfaMiddleware:
    """Sends approvers, custodians, auditors and administrators to MFA set-up until they have it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(_MFA_EXEMPT_PREFIXES)
            and policy.requires_mfa(user)
            and not policy.has_mfa(user)
        ):
            messages.warning(
                request,
                "Your role in this portal requires multi-factor authentication. Set up an "
                "authenticator app or a security key to continue.",
            )
            return HttpResponseRedirect(reverse("mfa_index") + "?required=1")
        return self.get_response(request)
