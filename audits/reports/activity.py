"""The root activity report: every root event in the period, matched to a session or not, with the
session and findings that account for it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from audits.models import Finding, RootEvent
from audits.reports.base import Report, ReportFilter, Row, iso, may_read
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


#: Root events read per round trip (and per query of their findings' codes).
ACTIVITY_CHUNK = 2000
# What a row reads, as tuples: building a model instance (and its session's, through
# select_related) per event was most of the time of a million-event export (bench/reports_benchmark.py).
_FIELDS = (
    "pk",
    "event_id",
    "event_time",
    "aws_account_id",
    "region",
    "event_source",
    "event_name",
    "event_type",
    "is_service_event",
    "succeeded",
    "mfa_used",
    "source_ip",
    "access_key_id",
    "assume_root_caller",
    "session__code",
    "session__is_drill",
    "in_scope",
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
    return RootEvent.objects.filter(q).order_by("event_time", "pk")


def _finding_codes(event_pks: list[int]) -> dict[int, list[str]]:
    """The codes of the findings that name each of these events, in one query."""
    codes: dict[int, list[str]] = defaultdict(list)
    links = (
        Finding.events.through.objects.filter(rootevent_id__in=event_pks)
        .order_by("finding__code")
        .values_list("rootevent_id", "finding__code")
    )
    for event_pk, code in links:
        codes[event_pk].append(code)
    return codes


def _rows_of(chunk: list[tuple[Any, ...]]) -> Iterator[Row]:
    codes = _finding_codes([values[0] for values in chunk])
    for values in chunk:
        (pk, event_id, event_time, account_id, region, source, name, event_type, service_event, succeeded,
         mfa_used, source_ip, access_key_id, caller, session, drill, in_scope) = values  # fmt: skip
        yield {
            "event_id": event_id,
            "event_time": iso(event_time),
            "account_id": account_id,
            "region": region,
            "event_source": source,
            "event_name": name,
            "event_type": event_type,
            "service_event": service_event,
            "succeeded": succeeded,
            "mfa_used": mfa_used,
            "source_ip": source_ip,
            "access_key_id": access_key_id,
            "assume_root_caller": caller,
            "session": session,
            # Matched to a scheduled drill: an exercise of the alarm, not real use.
            "drill": bool(drill),
            "in_scope": in_scope,
            "findings": codes.get(pk, []),
        }


def activity_rows(*, user: AnyUser | None, filters: ReportFilter | None = None) -> Iterator[Row]:
    """Every root event of the filter as a row, read in chunks of ``ACTIVITY_CHUNK`` (two queries each)."""
    found = events_for_report(user=user, filters=filters).values_list(*_FIELDS)
    chunk: list[tuple[Any, ...]] = []
    for values in found.iterator(chunk_size=ACTIVITY_CHUNK):
        chunk.append(values)
        if len(chunk) >= ACTIVITY_CHUNK:
            yield from _rows_of(chunk)
            chunk = []
    if chunk:
        yield from _rows_of(chunk)


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
