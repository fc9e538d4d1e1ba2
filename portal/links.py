"""Absolute links to the portal's pages, for messages read outside it (emails, Slack, webhooks).

Pages inside the portal use relative URLs (``{% url %}``, ``reverse``); only a message that leaves
the portal needs the scheme and host, which come from ``PORTAL_BASE_URL``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.urls import reverse

#: Where ``make run`` serves the portal; used when ``PORTAL_BASE_URL`` is unset or empty.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def base_url() -> str:
    """The configured address of the portal, without a trailing slash."""
    return str(getattr(settings, "PORTAL_BASE_URL", "") or DEFAULT_BASE_URL).rstrip("/")


def absolute_url(
    viewname: str,
    *,
    args: Sequence[Any] | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> str:
    """The absolute URL of a named page, e.g. ``absolute_url("breakglass:request_detail",
    kwargs={"uuid": request.uuid})``. Raises ``NoReverseMatch`` for a page that does not exist."""
    return base_url() + reverse(
        viewname,
        args=list(args) if args is not None else None,
        kwargs=dict(kwargs) if kwargs is not None else None,
    )


__all__ = ["DEFAULT_BASE_URL", "absolute_url", "base_url"]
