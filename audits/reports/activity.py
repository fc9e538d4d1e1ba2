"""The root activity report: every root event in the period, matched to a session or not, with the
session and findings that account for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet

from audits.models import Finding, RootEvent
from audits.reports.base import Report, ReportFilter, Row, in_chunks, iso, may_read
from breakglass.models import AwsAccount

if TYPE_CHECKING:
    from audits.reports.base import AnyUser

ACTIVITY_COLUMNS = (
    "event_id",
    "event_time",
    "account_id",
    "region",
    "event_source",
    "event_name",
    "event_type",
    "service_event",
    "succeeded",
    "mfa_used",
    "source_ip",
    "access_key_id",
    "assume_root_caller",
    "session",
    "drill",
    "in_scope",
    "findings",
)


def events_for_report(*, user: AnyUser | None, filters: ReportFilter | None = None) -> QuerySet[RootEvent]:
    """Root events oldest first, raw records never read; unknown accounts included."""
    if not may_read(user):
        return RootEvent.objects.none()
    q = Q()
    if filters is not None:
        if filters.since is not None:
            q &= Q(event_time__gte=filters.since)
        if filters.until is not None:
            q &= Q(event_time__lte=filters.until)
        if filters.account_id:
            q &= Q(aws_account_id=filters.account_id)
        if filters.environment:
            accounts = AwsAccount.objects.filter(environment=filters.environment).values("account_id")
            q &= Q(aws_account_id__in=accounts)
    return (
        RootEvent.objects.filter(q)
        .defer("raw")
        .select_related("session")
        .prefetch_related(Prefetch("findings", queryset=Finding.objects.only("id", "code").order_by("code")))
        .order_by("event_time", "pk")
    )


def activity_row(event: RootEvent) -> Row:
    return {
        "event_id": event.event_id,
        "event_time": iso(event.event_time),
        "account_id": event.aws_account_id,
        "region": event.region,
        "event_source": event.event_source,
        "event_name": event.event_name,
        "event_type": event.event_type,
        "service_event": event.is_service_event,
        "succeeded": event.succeeded,
        "mfa_used": event.mfa_used,
        "source_ip": event.source_ip,
        "access_key_id": event.access_key_id,
        "assume_root_caller": event.assume_root_caller,
        "session": event.session.code if event.session is not None else None,
        # Matched to a scheduled drill: an exercise of the alarm, not real use.
        "drill": event.session.is_drill if event.session is not None else False,
        "in_scope": event.in_scope,
        "findings": [finding.code for finding in event.findings.all()],
    }


def activity_rows(*, user: AnyUser | None, filters: ReportFilter | None = None) -> Iterator[Row]:
    for chunk in in_chunks(events_for_report(user=user, filters=filters)):
        for event in chunk:
            yield activity_row(event)


def activity_count(*, user: AnyUser | None, filters: ReportFilter | None = None) -> int:
    return events_for_report(user=user, filters=filters).count()


REPORT = Report(
    name="activity",
    title="Root activity",
    columns=ACTIVITY_COLUMNS,
    rows=activity_rows,
    count=activity_count,
    filter_fields=("since", "until", "account", "environment"),
)
