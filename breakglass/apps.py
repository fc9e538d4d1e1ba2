from __future__ import annotations

from django.apps import AppConfig


class BreakglassConfig(AppConfig):
    name = "breakglass"
    verbose_name = "Break-glass inventory and workflow"
    default_auto_field = "django.db.models.BigAutoField"
