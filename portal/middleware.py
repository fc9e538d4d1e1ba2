"""Request id on every request and log line; security headers on every response; idle and absolute
session timeouts; MFA enrolment enforced for every role."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
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


class OneLineRefusalLogFilter(logging.Filter):
    """A refusal (403) is a person reaching for something their role does not allow, not a fault:
    Django logs it with the exception's traceback, which the development server then printed twice
    (Django's own console handler and the root's). On the ``django.request`` logger this keeps one
    line: the path and the refusal's text (the decorators' texts hold no secret)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.exc_info:
            exception = record.exc_info[1]
            reason = str(exception) if exception is not None else ""
            record.msg = f"{record.msg} ({reason})" if reason else record.msg
            record.exc_info = None
            record.exc_text = None
        return True


# Pages a person with a role but without MFA may still reach: enrolment itself, logout, static files;
# and the token API, which reads no session (a redirect means nothing to a script) and refuses a
# token whose person has no MFA itself (api.auth.caller).
_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/api/v1/")


class RequireMfaMiddleware:
    """Sends everyone holding a role (requesters included) to MFA set-up until they have it."""

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


# No inline script anywhere (allauth's data blocks are type="application/json", never executed):
# an injected <script> or on* attribute does not run. Inline style attributes are refused too,
# except the few the templates use, allowed by their hashes: allauth's hidden forms
# ("display: none") and the list pages' header row ("justify-content:space-between"). No form-action: single
# sign-on posts to the portal, which redirects the browser to the identity provider's origin.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-hashes' 'sha256-ZdHxw9eWtnxUb3mk6tBS+gIiVUPE3pGM470keHPDFlE='"
        " 'sha256-VdskFr7IiACb/clfOdcr0dv1AHTSjl7YaKEwvOXHwHo='",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


class MethodNotAllowedPageMiddleware:
    """The portal's own page for a GET on an action URL (``require_POST`` answers an empty 405,
    which the browser shows as a bare error page): it says the address takes a form, with the
    navigation to go on from."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or response.content or request.path.startswith(_static_prefix()):
            return response
        page = render(request, "405.html", {"allowed": response.get("Allow", "")}, status=405)
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page


class SecurityHeadersMiddleware:
    """Content-Security-Policy on every response; ``no-store`` on every page that is not a static
    file, so no page of a signed-in person (a root password, an audit finding) stays in a browser
    or proxy cache; no server software version."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        if not request.path.startswith(_static_prefix()):
            response["Cache-Control"] = "no-store"
        if request.META.get("SERVER_SOFTWARE", "").startswith("WSGIServer"):
            # The development server (wsgiref) names itself and the Python version unless the
            # response already has a Server header; gunicorn sends a bare "gunicorn" itself.
            response["Server"] = "portal"
        return response


def _static_prefix() -> str:
    return "/" + settings.STATIC_URL.lstrip("/")


# Session keys of the timeout: when this session first saw its person, and their last request.
_SESSION_STARTED = "portal_session_started"
_SESSION_SEEN = "portal_session_seen"
# The last-request time is written at most this often, not on every request.
_SEEN_RESOLUTION_SECONDS = 60


@receiver(user_logged_in, dispatch_uid="portal.session_timeout_start")
def _start_session_clock(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """The clock starts at sign-in, written with the sign-in's own session save rather than an extra
    write on the next page."""
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[_SESSION_STARTED] = request.session[_SESSION_SEEN] = now


class SessionTimeoutMiddleware:
    """Signs a person out after ``PORTAL_IDLE_TIMEOUT_MINUTES`` without a request, and after
    ``PORTAL_SESSION_SECONDS`` since sign-in however active (an absolute limit that holds even though
    every session write pushes Django's own expiry forward)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session = request.session
            now = time.time()
            started = session.get(_SESSION_STARTED)
            seen = session.get(_SESSION_SEEN)
            if started is None or seen is None:
                # A session from before this middleware, or a sign-in without the signal.
                session[_SESSION_STARTED] = session[_SESSION_SEEN] = now
            elif now - seen > settings.PORTAL_IDLE_TIMEOUT_MINUTES * 60:
                return self._sign_out(
                    request,
                    f"You were signed out after {settings.PORTAL_IDLE_TIMEOUT_MINUTES} minutes without "
                    "activity. Sign in again to continue.",
                )
            elif now - started > settings.SESSION_COOKIE_AGE:
                return self._sign_out(request, "Your session has ended. Sign in again to continue.")
            elif now - seen >= _SEEN_RESOLUTION_SECONDS:
                session[_SESSION_SEEN] = now
        return self.get_response(request)

    def _sign_out(self, request: HttpRequest, message: str) -> HttpResponse:
        logout(request)
        messages.info(request, message)
        login_url = resolve_url(settings.LOGIN_URL)
        if request.method == "GET":
            return HttpResponseRedirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
        # A form posted into an expired session is not replayed: the person reviews it again.
        return HttpResponseRedirect(login_url)
