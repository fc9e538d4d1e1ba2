"""View decorators that put the policy in front of every view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpResponseBase

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., "HttpResponseBase"])


class AuthenticatedHttpRequest(HttpRequest):
    """The request a view behind :func:`portal_user_required` or :func:`allowed_if` receives.

    Only an annotation (Django builds plain ``HttpRequest`` objects): the decorator is what makes it
    true, by sending anyone not signed in to sign in first. A view annotated with it reads
    ``request.user`` as the signed-in ``User`` (django-stubs' idiom for authenticated views).
    """

    user: User


def portal_user_required(view: ViewFunc) -> ViewFunc:
    """Signed in and holding a role of the portal (MFA enrolment is enforced by middleware)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not policy.may_use_portal(request.user):
            raise PermissionDenied("You have no role in this portal. Ask an administrator.")
        return view(request, *args, **kwargs)

    return cast(ViewFunc, login_required(wrapper))


def allowed_if(check: Callable[[Any], bool]) -> Callable[[ViewFunc], ViewFunc]:
    """Signed in, and ``check(user)`` from :mod:`portal.policy` says yes."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not check(request.user):
                raise PermissionDenied("You are not allowed to do this.")
            return view(request, *args, **kwargs)

        return cast(ViewFunc, login_required(wrapper))

    return decorator
