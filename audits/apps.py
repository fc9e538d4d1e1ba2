from __future__ import annotations

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Audit and evidence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the receivers that keep findings in step with check-out windows, and the one that
        # turns a broken ledger into a critical finding, the one for unfinished access reviews, the one
        # for silent approvers (drill_findings) and the one that sends findings to Security Hub;
        # registers the Celery tasks in every process (an upload is handed to its task by name, which
        # runs in place under task_always_eager only when the task is registered). Imported here, not
        # at the top: they import models, which exist only once the registry is ready (Django's
        # documented place for this).
        from audits import (  # noqa: F401
            device_findings,
            drill_findings,
            ledger_alerts,
            review_findings,
            securityhub,
            signals,
            tasks,
        )
        from audits.overview import add_sqlite_median
        from audits.posture import tasks as posture_tasks  # noqa: F401

        # SQLite (``make run``) learns the median the overview's sessions chart asks for.
        connection_created.connect(add_sqlite_median, dispatch_uid="audits.sqlite_median")
