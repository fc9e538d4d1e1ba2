from __future__ import annotations

from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Audit and evidence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the receivers that keep findings in step with check-out windows. Imported here,
        # not at the top: ``audits.signals`` imports models, which exist only once the registry is
        # ready (Django's documented place for connecting receivers).
        from audits import signals  # noqa: F401
