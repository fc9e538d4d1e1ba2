"""Project package: settings, URLs, the Celery app and cross-cutting pieces (policy, step-up).

The Celery app is loaded when Django is (``PortalConfig.ready``) and by ``celery -A portal``, not on
import of this package: plain modules such as ``portal.env`` must import without Django (the key-ring
parser is shared with ``breakglass.crypto``, which runs without it).
"""

from __future__ import annotations

from typing import Any

__all__ = ["celery_app"]


def __getattr__(name: str) -> Any:
    if name == "celery_app":
        from portal.celery import app

        return app
    raise AttributeError(f"module 'portal' has no attribute {name!r}")
