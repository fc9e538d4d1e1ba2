"""Project package: settings, URLs, the Celery app and cross-cutting pieces (policy, step-up)."""

from __future__ import annotations

from portal.celery import app as celery_app

__all__ = ["celery_app"]
