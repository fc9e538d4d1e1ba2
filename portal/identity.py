"""Step-up for django-allauth: the decorators that demand a fresh second factor (the account
adapter is ``breakglass.adapters``).

Step-up is a sudo mode for dangerous actions (approve, check out, reveal a secret, confirm a
rotation, change who approves). It demands that the person proved who they are within the last
``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds by MFA: a stolen session with a known password must
not be enough to release a root credential.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from allauth.account.internal.flows.login import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect

from portal import policy

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., "HttpResponse"])


def recently_stepped_up(request: HttpRequest) -> bool:
    """Whether the person proved a second factor within the step-up window.

    Only an MFA check counts: a fresh password (or single sign-on) re-authentication does not,
    and someone without MFA cannot step up at all. Every role needs MFA
    (``policy.MFA_REQUIRED_ROLES``), so this fails closed for nobody who may act.
    """
    user = request.user
    if not user.is_authenticated or not policy.has_mfa(user):
        return False
    window_start = time.time() - settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    return any(
        record.get("method") == "mfa" and float(record.get("at", 0)) >= window_start
        for record in get_authentication_records(request, user)
    )


def step_up_required(view: ViewFunc) -> ViewFunc:
    """Require a fresh re-authentication (MFA when the person has it) before the view runs.

    allauth's middleware turns the exception into a redirect to the re-authentication page and,
    for a POST, replays the suspended request afterwards.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not recently_stepped_up(request):
            raise ReauthenticationRequired()
        return view(request, *args, **kwargs)

    return cast(ViewFunc, wrapper)


def step_up_before_secrets(view: ViewFunc) -> ViewFunc:
    """Step-up for a form that carries a secret (a new root password).

    ``step_up_required`` lets allauth keep a suspended POST, body included, in the session until
    the person has re-authenticated. A root password must not sit in the session table, so a POST
    arriving without a fresh step-up is dropped and the person sent to the form (whose GET asks
    for the re-authentication) to type it again.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not recently_stepped_up(request):
            if request.method == "POST":
                messages.error(
                    request,
                    "Confirm it is you first. What you typed was not kept; enter it again afterwards.",
                )
                return redirect(request.path)
            raise ReauthenticationRequired()
        return view(request, *args, **kwargs)

    return cast(ViewFunc, wrapper)
