"""Base models every app may build on. No concrete models here, and no imports from the apps."""

from __future__ import annotations

import uuid

from django.db import models


class TimeStamped(models.Model):
    """An opaque UUID for URLs and when the row was created and last changed, on every domain row."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
