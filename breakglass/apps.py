from __future__ import annotations

from django.apps import AppConfig


class BreakglassConfig(AppConfig):
    name = "breakglass"
    verbose_name = "Break-glass inventory and workflow"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the Celery tasks in every process (web, tests, worker): the notifications outbox
        # hands work over by task name, which runs in place under task_always_eager only when the
        # task is registered. Imported here because tasks import models, which need the app registry.
        from breakglass import identity_events, tasks  # noqa: F401

        # Sign-ins, failed sign-ins, MFA and password changes become ledger entries.
        identity_events.connect()
