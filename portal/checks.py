"""Deployment checks of the portal's own (run by ``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def shared_cache_configured(app_configs: Any, **kwargs: Any) -> list[Warning]:
    if settings.PORTAL_CACHE_URL:
        return []
    return [
        Warning(
            "PORTAL_CACHE_URL is not set, so each process has its own cache.",
            hint="Set PORTAL_CACHE_URL=redis://... so a used TOTP code cannot be replayed on another "
            "worker and login rate limits hold across workers.",
            id="portal.W001",
        )
    ]
