"""How the period's root events are accounted for, per account and month, for the evidence bundle.

The activity report lists every root event (a million in a busy year: bench/reports_benchmark.py) and
stays row by row in the bundle's CSV and JSON, which a person searches but does not read. What a
person reads is this summary: per account and month, how many root events there were, how many fell
inside a break-glass session (drills apart), how many were outside the session's declared task, how
many matched no session and how many of those no finding accounts for (the gap an auditor asks
about). The bundle writes it as ``reports/activity-summary.csv`` and ``.json``, and its cover prints
the totals per month. Each is one aggregate query, read as it streams: nothing grows with events.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth

from audits.models import Finding
from audits.reports.activity import events_for_report
from audits.reports.base import ReportFilter

if TYPE_CHECKING:
    from audits.reports.base import AnyUser

SUMMARY_COLUMNS = (
    "account_id",
    "month",
    "events",
    "in_session",
    "drill",
    "out_of_scope",
    "unmatched",
    "unmatched_without_finding",
)
MONTH_COLUMNS = tuple(column for column in SUMMARY_COLUMNS if column != "account_id")


def _counted(*, user: AnyUser | None, filters: ReportFilter, by: tuple[str, ...]) -> QuerySet[Any]:
    named = Exists(Finding.events.through.objects.filter(rootevent_id=OuterRef("pk")))
    return (
        events_for_report(user=user, filters=filters)
        .order_by()
        .annotate(month=TruncMonth("event_time", tzinfo=UTC), named=named)
        .values(*by)
        .annotate(
            events=Count("pk"),
            in_session=Count("pk", filter=Q(session__isnull=False, session__is_drill=False)),
            drill=Count("pk", filter=Q(session__is_drill=True)),
            out_of_scope=Count("pk", filter=Q(in_scope=False)),
            unmatched=Count("pk", filter=Q(session__isnull=True)),
            unmatched_without_finding=Count("pk", filter=Q(session__isnull=True, named=False)),
        )
        .order_by(*by)
    )


def _row(values: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in columns:
        if column == "account_id":
            row[column] = values["aws_account_id"]
        elif column == "month":
            row[column] = values["month"].strftime("%Y-%m")
        else:
            row[column] = values[column]
    return row


def summary_rows(*, user: AnyUser | None, filters: ReportFilter) -> Iterator[dict[str, Any]]:
    """One row per account and month, accounts then months in order."""
    for values in _counted(user=user, filters=filters, by=("aws_account_id", "month")).iterator():
        yield _row(values, SUMMARY_COLUMNS)


def month_rows(*, user: AnyUser | None, filters: ReportFilter) -> list[dict[str, Any]]:
    """One row per month of the period, every account together (a period's months are few)."""
    return [_row(values, MONTH_COLUMNS) for values in _counted(user=user, filters=filters, by=("month",))]
