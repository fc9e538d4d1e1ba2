"""Template tags of the evidence side, for pages the evidence side does not render itself.

``{% session_root_events r as events %}`` gives a check-out's page (rendered by ``breakglass``,
which must not import ``audits``) the root events reconciliation matched to it, through the same
permission-aware selector as every other read.
"""

from __future__ import annotations

from typing import Any

from django import template

from audits import selectors
from audits.models import AssumeRootCall, RootEvent

register = template.Library()


@register.simple_tag(takes_context=True)
def session_root_events(context: template.Context, access_request: Any) -> list[RootEvent]:
    """The root events matched to ``access_request``, oldest first; none for someone who may not
    see the request (or when the page has no signed-in person)."""
    http_request = context.get("request")
    user = getattr(http_request, "user", None) or context.get("user")
    if access_request is None or user is None or not user.is_authenticated:
        return []
    return list(selectors.session_root_events(user=user, request=access_request))


@register.simple_tag(takes_context=True)
def session_assume_root_calls(context: template.Context, access_request: Any) -> list[AssumeRootCall]:
    """The AssumeRoot records of the management account tied to ``access_request`` by its key."""
    http_request = context.get("request")
    user = getattr(http_request, "user", None) or context.get("user")
    if access_request is None or user is None or not user.is_authenticated:
        return []
    return list(selectors.session_assume_root_calls(user=user, request=access_request))
