"""django-allauth adapters: how the portal's sign-in differs from allauth's defaults.

They live in ``breakglass`` (not ``portal``) because they write the ledger and queue alerts, which
portal's base modules, sitting below every app, may not import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from allauth.account.adapter import DefaultAccountAdapter

from breakglass.throttle import SignInThrottleMixin
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.http import HttpRequest


# allauth ships no type hints, so its base class is Any to mypy.
class PortalAccountAdapter(SignInThrottleMixin, DefaultAccountAdapter):  # type: ignore[misc]
    """No open sign-up (accounts come from administrators or SSO); MFA first for re-authentication;
    failed sign-ins throttled per (person, address), never locking a person out (breakglass.throttle)."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_reauthentication_methods(self, user: AbstractBaseUser | AnonymousUser) -> list[dict[str, Any]]:
        methods = cast(list[dict[str, Any]], super().get_reauthentication_methods(user))
        if policy.has_mfa(user):
            # A password alone must not satisfy step-up for someone who has a second factor.
            methods = [m for m in methods if str(m["id"]).startswith("mfa_")]
        return methods
