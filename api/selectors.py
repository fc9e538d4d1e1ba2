"""Permission-aware reads of API tokens: a person sees their own; administrators every token, so
they can revoke one that leaked."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404

from api.models import ApiToken
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """The person's own tokens, live and past, newest first."""
    if not policy.may_use_portal(user):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user).select_related("revoked_by").order_by("-created_at", "-id")


def live_tokens_of_others(*, user: User) -> QuerySet[ApiToken]:
    """Everyone else's live tokens, newest first, for administrators only."""
    if not policy.may_manage_inventory(user):
        return ApiToken.objects.none()
    return ApiToken.objects.live().exclude(user=user).select_related("user").order_by("-created_at", "-id")


def token_for(*, user: User, uuid: UUID) -> ApiToken:
    """A token the person may revoke (their own; any for an administrator), or 404."""
    if not policy.may_use_portal(user):
        raise Http404("No such token.")
    tokens = ApiToken.objects.select_related("user")
    if not policy.may_manage_inventory(user):
        tokens = tokens.filter(user=user)
    try:
        return tokens.get(uuid=uuid)
    except ApiToken.DoesNotExist:
        raise Http404("No such token.") from None
