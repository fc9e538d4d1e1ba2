from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        # celery: the app every shared_task of the project binds to, loaded with Django (not on
        # import of the package, see portal/__init__.py).
        from portal import celery, celery_signals, checks, middleware  # noqa: F401  (registers checks and signal handlers)
