"""Break-glass drills and approver reachability checks (issue 9, item 4). Imported by
``breakglass.models`` so Django finds them.

The services are in :mod:`breakglass.drills` and :mod:`breakglass.reachability`; the evidence side
(``audits.drill_findings``) records what it observed through those services and raises the findings.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from breakglass.choices import DrillResult, RequestStatus
from portal.models import TimeStamped

#: The states of a drill's session in which it never ran (nobody checked out).
_NOT_RUN = (RequestStatus.CANCELLED, RequestStatus.EXPIRED, RequestStatus.DENIED, RequestStatus.REVOKED)


def delay_text(delay: timedelta | None) -> str:
    """A measured delay as people read it: ``0.4 s``, ``4 min 12 s``, ``1 h 3 min``; ``-`` when not
    measured."""
    if delay is None:
        return "-"
    exact = delay.total_seconds()
    if exact < 10:
        # A delivery inside the same second is common; "0 s" would hide that it was measured.
        return f"{exact:.1f} s"
    seconds = int(exact)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


class Drill(TimeStamped):
    """One scheduled drill of an account's alarm chain: its session (an ``AccessRequest`` with
    ``is_drill``) and what the portal measured of it.

    ``signed_in_at`` is the root ``ConsoleLogin``'s own time, ``ingested_at`` when the portal stored
    it, ``alert_delivered_at`` when the first "drill observed" alert was sent; the delays between
    them are stored as measured, so a later change of the rows cannot rewrite them.
    """

    request = models.OneToOneField("breakglass.AccessRequest", on_delete=models.PROTECT, related_name="drill")
    scheduled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    root_event_id = models.CharField(max_length=128, blank=True)
    signed_in_at = models.DateTimeField(null=True, blank=True)
    ingested_at = models.DateTimeField(null=True, blank=True)
    observed_at = models.DateTimeField(null=True, blank=True)
    alert_delivered_at = models.DateTimeField(null=True, blank=True)
    ingest_delay = models.DurationField(null=True, blank=True)
    alert_delay = models.DurationField(null=True, blank=True)
    result = models.CharField(max_length=20, choices=DrillResult.choices, blank=True)
    # The code of the drill_event_missing finding, when one was raised.
    finding_code = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_in_at__isnull=True)
                | Q(ingested_at__isnull=False, observed_at__isnull=False, ingest_delay__isnull=False),
                name="drill_observation_complete",
            ),
            models.CheckConstraint(
                condition=Q(alert_delivered_at__isnull=True)
                | Q(signed_in_at__isnull=False, alert_delay__isnull=False),
                name="drill_alert_after_observation",
            ),
        ]

    def __str__(self) -> str:
        return f"drill {self.request.code} of {self.request.account}"

    @property
    def event_deadline(self) -> datetime | None:
        """When the root sign-in must have arrived (None before check-in)."""
        checked_in = self.request.checked_in_at
        if checked_in is None:
            return None
        return checked_in + timedelta(minutes=settings.PORTAL_DRILL_EVENT_DEADLINE_MINUTES)

    @property
    def state(self) -> str:
        """Where the drill stands, in words for pages and reports."""
        request = self.request
        if self.result:
            return str(DrillResult(self.result).label)
        if request.checked_out_at is None:
            if request.status in _NOT_RUN:
                return f"Not run ({request.get_status_display().lower()})"
            return "Scheduled"
        if request.checked_in_at is None:
            return "In progress" if request.status == RequestStatus.ACTIVE else "Not returned"
        if self.signed_in_at is None:
            return "Waiting for the root sign-in to arrive from CloudTrail"
        return "Root sign-in matched; waiting for the alert to be delivered"

    @property
    def ingest_delay_text(self) -> str:
        return delay_text(self.ingest_delay)

    @property
    def alert_delay_text(self) -> str:
        return delay_text(self.alert_delay)

    @property
    def passed(self) -> bool:
        return self.result == DrillResult.PASSED

    @property
    def failed(self) -> bool:
        return self.result in (DrillResult.EVENT_MISSING, DrillResult.ALERT_FAILED)


class ReachabilityCheck(TimeStamped):
    """One request to an approver to confirm, by signing in with a fresh MFA check, that they can be
    reached (like the team baseline of AWS Multi-party approval). Silent past ``deadline``, it lapses
    and the evidence side raises ``approver_unreachable``; a late confirmation is still recorded."""

    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reachability_checks"
    )
    asked_at = models.DateTimeField()
    deadline = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    lapsed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-asked_at"]
        constraints = [
            # Asking twice at once would only confuse the approver.
            models.UniqueConstraint(
                fields=["approver"],
                condition=Q(confirmed_at__isnull=True, lapsed_at__isnull=True),
                name="one_open_reachability_check",
            ),
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("asked_at")), name="reachability_deadline_after_ask"
            ),
        ]

    def __str__(self) -> str:
        return f"reachability of {self.approver} asked {self.asked_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.confirmed_at is None and self.lapsed_at is None
