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


@register(deploy=True)
def trusted_proxy_declared(app_configs: Any, **kwargs: Any) -> list[Warning]:
    if settings.PORTAL_TRUSTED_PROXY_COUNT or not getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return []
    return [
        Warning(
            "DJANGO_BEHIND_TLS_PROXY is on but PORTAL_TRUSTED_PROXY_COUNT is 0, so every client appears "
            "with the proxy's address.",
            hint="Set PORTAL_TRUSTED_PROXY_COUNT to the number of your reverse proxies (1 for the "
            "docker-compose deployment) and let the proxy set X-Forwarded-For and X-Request-ID: "
            "otherwise sign-in throttling per address slows everyone down together.",
            id="portal.W002",
        )
    ]
