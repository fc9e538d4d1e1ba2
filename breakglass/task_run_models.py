"""The portal's carrying-out of an AssumeRoot task for a session (issue 12). Imported by
``breakglass.models`` so Django finds it.

The writes are :mod:`breakglass.task_runs` (start and finish, each with its ledger entry); the AWS
side, which calls ``sts:AssumeRoot`` and does the task, is ``audits.assume_root``, driven by
``audits.task_runner``. The holder never sees the credentials: only the access key id is kept, the
link between the session and the member account's CloudTrail records.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from breakglass.choices import TaskRunStatus
from portal.models import TimeStamped


class RootTaskRun(TimeStamped):
    """One run of a session's AssumeRoot task: who pressed the button, what AWS answered.

    ``found`` is the evidence: what the audit found, what was deleted, the bucket or queue policy that
    was removed (JSON, no secret: AWS never returns one to these tasks). ``access_key_id`` is the key
    AssumeRoot issued ("" when AssumeRoot itself failed); reconciliation matches the member account's
    root events made with it to the session, whatever their time. At most one run per session is
    running or succeeded (the constraint); a failed run may be followed by another within the window.
    """

    request = models.ForeignKey(
        "breakglass.AccessRequest", on_delete=models.PROTECT, related_name="task_runs", editable=False
    )
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    task_code = models.CharField(max_length=40, editable=False)
    # {"bucket_name": ...} or {"queue_url": ...}: what the task acted on, as approved.
    target = models.JSONField(default=dict, blank=True, editable=False)
    status = models.CharField(
        max_length=20, choices=TaskRunStatus.choices, default=TaskRunStatus.RUNNING, editable=False
    )
    access_key_id = models.CharField(max_length=128, blank=True, db_index=True, editable=False)
    found = models.JSONField(default=dict, blank=True, editable=False)
    # Why it failed, for people (AWS's error code and message); never a secret.
    error = models.TextField(blank=True, editable=False)
    started_at = models.DateTimeField(editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            # One run per approved session: a second press while one runs, or after it succeeded,
            # is refused by the database as well as by the rule.
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status__in=[TaskRunStatus.RUNNING, TaskRunStatus.SUCCEEDED]),
                name="one_live_task_run_per_request",
            ),
            models.CheckConstraint(
                condition=Q(status=TaskRunStatus.RUNNING) | Q(finished_at__isnull=False),
                name="finished_task_run_has_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_code} for request {self.request_id} ({self.status})"

    @property
    def target_text(self) -> str:
        """The bucket or queue the task acted on, for pages; "" for the credential tasks."""
        target = self.target or {}
        return str(target.get("bucket_name") or target.get("queue_url") or "")
