"""Access reviews (recertification, PCI DSS 7.2.4): a campaign asks each account's reviewers to keep
or revoke every grant, approver and custodian assignment, and its custodians to confirm that each MFA
device marked in the safe is physically there. Imported by ``breakglass.models`` so Django finds them.

The services are in :mod:`breakglass.reviews`, who may decide in :mod:`breakglass.review_rules`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from breakglass.choices import CampaignStatus, ReviewDecision, ReviewSubject, UndecidedOutcome
from portal.models import TimeStamped

_PERSON_SUBJECTS = (ReviewSubject.APPROVER, ReviewSubject.CUSTODIAN)


class ReviewCampaign(TimeStamped):
    """One access review: the period it covers, its deadline, and what happens at the deadline to the
    grants nobody decided on. ``started_by`` is empty for a campaign the schedule started."""

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    period_start = models.DateTimeField(help_text="The previous campaign's start, or the first grant.")
    period_end = models.DateTimeField(help_text="When this campaign started.")
    deadline = models.DateTimeField()
    status = models.CharField(max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.OPEN)
    undecided_outcome = models.CharField(
        max_length=10, choices=UndecidedOutcome.choices, default=UndecidedOutcome.EXPIRE
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Two open campaigns would ask the same reviewers the same questions twice.
            models.UniqueConstraint(
                fields=["status"], condition=Q(status=CampaignStatus.OPEN), name="one_open_review_campaign"
            ),
            models.CheckConstraint(
                condition=Q(period_start__lte=F("period_end")), name="review_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(deadline__gt=F("period_end")), name="review_deadline_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status=CampaignStatus.OPEN, closed_at__isnull=True)
                | Q(status=CampaignStatus.CLOSED, closed_at__isnull=False),
                name="review_closed_at_iff_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"access review of {self.period_end:%Y-%m-%d}"


class ReviewItem(TimeStamped):
    """One question of a campaign: keep or revoke a grant, an approver or a custodian assignment of
    ``account``, or confirm that ``device`` is in the safe.

    ``person`` is whose access is reviewed (the grant's holder, the approver, the custodian) so the
    database itself refuses that person deciding on it. A device item has no account or person: the
    custodians of every account it is registered on may confirm it.
    """

    campaign = models.ForeignKey(ReviewCampaign, on_delete=models.CASCADE, related_name="items")
    subject = models.CharField(max_length=10, choices=ReviewSubject.choices)
    account = models.ForeignKey(
        "breakglass.AwsAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    grant = models.ForeignKey(
        "breakglass.Grant", null=True, blank=True, on_delete=models.PROTECT, related_name="review_items"
    )
    device = models.ForeignKey(
        "breakglass.MfaDevice", null=True, blank=True, on_delete=models.PROTECT, related_name="review_items"
    )
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "grant"], condition=Q(grant__isnull=False), name="review_grant_once"
            ),
            models.UniqueConstraint(
                fields=["campaign", "subject", "account", "person"],
                condition=Q(subject__in=_PERSON_SUBJECTS),
                name="review_assignment_once",
            ),
            models.UniqueConstraint(
                fields=["campaign", "device"], condition=Q(device__isnull=False), name="review_device_once"
            ),
            # Each kind of question points at exactly its own subject.
            models.CheckConstraint(
                condition=Q(
                    subject=ReviewSubject.GRANT,
                    grant__isnull=False,
                    account__isnull=False,
                    person__isnull=False,
                    device__isnull=True,
                )
                | Q(
                    subject__in=_PERSON_SUBJECTS,
                    grant__isnull=True,
                    account__isnull=False,
                    person__isnull=False,
                    device__isnull=True,
                )
                | Q(
                    subject=ReviewSubject.DEVICE,
                    grant__isnull=True,
                    account__isnull=True,
                    person__isnull=True,
                    device__isnull=False,
                ),
                name="review_item_subject_consistent",
            ),
            models.CheckConstraint(
                condition=Q(decision="", decided_by__isnull=True, decided_at__isnull=True)
                | Q(
                    subject=ReviewSubject.DEVICE,
                    decision__in=[ReviewDecision.SEEN, ReviewDecision.MISSING],
                    decided_at__isnull=False,
                )
                | ~Q(subject=ReviewSubject.DEVICE)
                & Q(decision__in=[ReviewDecision.KEEP, ReviewDecision.REVOKE], decided_at__isnull=False),
                name="review_decision_fits_subject",
            ),
            # Nobody recertifies their own access.
            models.CheckConstraint(condition=~Q(decided_by=F("person")), name="review_not_own_access"),
        ]
        indexes = [models.Index(fields=["campaign", "decision"])]

    def __str__(self) -> str:
        if self.subject == ReviewSubject.DEVICE:
            return f"{self.get_subject_display()}: {self.device}"
        return f"{self.get_subject_display()}: {self.person} on {self.account}"

    @property
    def is_decided(self) -> bool:
        return bool(self.decision)
