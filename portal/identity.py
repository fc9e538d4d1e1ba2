"""Identity glue for django-allauth: the account adapter and the step-up decorator.

Step-up is a sudo mode for dangerous actions (approve, check out, reveal a secret, confirm a
rotation, change who approves). It demands that the person proved who they are within the last
``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds, by MFA whenever they have MFA: a stolen session with
a known password must not be enough to release a root credential.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect

from portal import policy

if TYPE_CHECKING:
    from allauth.socialaccount.models import SocialLogin
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.http import HttpRequest, HttpResponse

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., "HttpResponse"])


# allauth ships no type hints, so its base class is Any to mypy.
class PortalAccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """No open sign-up (accounts come from administrators or SSO); MFA first for re-authentication."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_reauthentication_methods(self, user: AbstractBaseUser | AnonymousUser) -> list[dict[str, Any]]:
        methods = cast(list[dict[str, Any]], super().get_reauthentication_methods(user))
        if policy.has_mfa(user):
            # A password alone must not satisfy step-up for someone who has a second factor.
            methods = [m for m in methods if str(m["id"]).startswith("mfa_")]
        return methods


# allauth ships no type hints, so its base class is Any to mypy.
class PortalSocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]
    """Single sign-on may create the person's account: the identity provider vouches for them.

    Without this, allauth asks the account adapter, whose sign-up is closed, and nobody from the
    identity provider could get in. Their roles follow the provider's groups
    (``PORTAL_SSO_GROUP_ROLES``, applied at each sign-in by ``breakglass.identity``).
    """

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True


def recently_stepped_up(request: HttpRequest) -> bool:
    """Whether the person authenticated strongly enough within the step-up window."""
    user = request.user
    if not user.is_authenticated:
        return False
    window_start = time.time() - settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    wanted = {"mfa"} if policy.has_mfa(user) else {"password", "mfa", "socialaccount"}
    return any(
        record.get("method") in wanted and float(record.get("at", 0)) >= window_start
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
