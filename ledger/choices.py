"""Choices of the ledger's own tables."""

from __future__ import annotations

from django.db import models


class VerificationTrigger(models.TextChoices):
    """What started a chain verification."""

    SCHEDULE = "schedule", "the hourly schedule"
    COMMAND = "command", "manage.py verify_ledger"
    PAGE = "page", "the ledger page"
