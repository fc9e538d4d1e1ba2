"""The last result of every posture check, per account (imported by ``audits.models``)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from audits.choices import PostureStatus
from audits.posture.controls import Check
from portal.models import TimeStamped


class PostureResult(TimeStamped):
    """The latest answer to one posture check for one account (``account`` None: the organization's
    own check, centralised root access). Overwritten by each run, so the pages show a current score;
    what changed over time is in the findings and the ledger."""

    account = models.ForeignKey(
        "breakglass.AwsAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="posture_results",
    )
    check_name = models.CharField("check", max_length=40, choices=Check.choices)
    status = models.CharField(max_length=20, choices=PostureStatus.choices)
    # The sentence the page shows: why it failed, or why it could not be checked.
    reason = models.TextField()
    # Key ids' ages and last use, virtual serials, contact names: never secrets.
    detail = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["account_id", "check_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "check_name"],
                condition=Q(account__isnull=False),
                name="posture_result_per_account",
            ),
            models.UniqueConstraint(
                fields=["check_name"],
                condition=Q(account__isnull=True),
                name="posture_result_per_organization",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.check_name} {self.status} for {self.account_id or 'the organization'}"
