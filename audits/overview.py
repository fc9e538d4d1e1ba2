"""The auditors' and administrators' overview on the home page: the numbers behind its pictures.

Root events per week by account, open findings by severity, sessions per month with the median time
to approval and to rotation, and the accounts whose access review or drill is overdue. Every figure is
an aggregate computed by the database, so the page costs the same few queries with ten events or ten
million (``tests/test_overview.py`` counts them at two sizes). The pictures are drawn from these
numbers by :mod:`audits.charts`.

The organisation-wide figures are the same for everyone who sees them (only people who see every
account get an overview) and cost about half a second at 5,000 accounts and a million root events
(12 weeks of events grouped by account and week), so they are kept in the shared cache and computed
at most once every ``FRESH_FOR``; the page says when they were computed. When they go stale, one
request recomputes them while the others keep showing the previous figures (no queue of workers
all computing the same thing). Open findings stay live: triage on the findings page shows at once.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Min, Q
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek

from audits.choices import FindingStatus, Severity
from audits.models import Finding, RootEvent
from breakglass.drill_selectors import accounts_by_drill_due
from breakglass.models import AccessRequest, AwsAccount, live_grant_q
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

    AnyUser = AbstractBaseUser | AnonymousUser

WEEKS = 12
MONTHS = 12
#: Accounts drawn on their own in the events chart; the rest share one colour.
ACCOUNTS_DRAWN = 5
OTHER_ACCOUNTS = "other accounts"
#: Accounts listed under "Access reviews overdue" and "Drills overdue"; the rest are counted.
ACCOUNTS_LISTED = 10
#: How long the organisation-wide figures are shown before one request computes them again.
FRESH_FOR = timedelta(seconds=60)
# A stale copy is kept well past FRESH_FOR so that, while one request refreshes it, the others still
# have something to show; the lock expires on its own if that request dies half-way.
_KEPT_FOR_SECONDS = 15 * 60
_REFRESH_LOCK_SECONDS = 60
# The version is part of the key: a deploy that changes OrganisationFigures never reads an old copy.
_CACHE_KEY = "audits.overview.figures.v2"
_REFRESH_LOCK = f"{_CACHE_KEY}.refreshing"


class Median(Aggregate):
    """The median of an interval (nulls are left out): PostgreSQL's ``percentile_cont(0.5)``, and
    on SQLite (``make run``) the ``portal_median`` aggregate that :func:`add_sqlite_median` adds."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        return self.as_sql(
            compiler, connection, function="portal_median", template="%(function)s(%(expressions)s)"
        )


class _SqliteMedian:
    """SQLite's side of :class:`Median`: intervals reach it as microseconds (Django's own
    representation of a duration there), and the median goes back the same way."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def add_sqlite_median(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    """``connection_created`` receiver (connected in ``AuditsConfig.ready``): SQLite has no
    ``percentile_cont``, and without this the overview of ``make run`` fails on its first query."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("portal_median", 1, _SqliteMedian)


@dataclass(frozen=True)
class AccountDue:
    """An account named in the overview's lists (kept as plain values: the figures live in a cache)."""

    name: str
    uuid: UUID
    since: datetime
    grants: int = 0


@dataclass(frozen=True)
class OrganisationFigures:
    """Everything on the overview but the open findings: the same for everyone who sees it."""

    as_of: datetime
    weeks: list[str]
    events_by_account: dict[str, list[int]]
    months: list[str]
    sessions: list[int]
    median_hours_to_approval: list[float | None]
    median_hours_to_rotation: list[float | None]
    reviews_overdue: list[AccountDue]
    reviews_overdue_total: int
    drills_overdue: list[AccountDue]
    drills_overdue_total: int

    @property
    def month_rows(self) -> list[tuple[str, int, float | None, float | None]]:
        """The sessions chart's numbers, one row per month, for the table beside it."""
        return list(
            zip(
                self.months,
                self.sessions,
                self.median_hours_to_approval,
                self.median_hours_to_rotation,
                strict=True,
            )
        )


@dataclass(frozen=True)
class Overview:
    figures: OrganisationFigures
    findings_by_severity: list[tuple[str, str, int]]  # (severity value, label, open count)

    @property
    def open_findings(self) -> int:
        return sum(count for _, _, count in self.findings_by_severity)


def _week_start(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _month_starts(now: datetime, months: int) -> list[datetime]:
    year, month = now.year, now.month
    starts = []
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


def root_events_per_week(*, now: datetime) -> tuple[list[str], dict[str, list[int]]]:
    """The last ``WEEKS`` weeks (Monday to Sunday, UTC) and, per account, its root events each week."""
    starts = [_week_start(now) - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    index = {start: i for i, start in enumerate(starts)}
    rows = (
        RootEvent.objects.filter(event_time__gte=starts[0])
        .annotate(week=TruncWeek("event_time", tzinfo=UTC))
        .values_list("aws_account_id", "week")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_account: dict[str, list[int]] = {}
    for account_id, week, n in rows:
        per_account.setdefault(account_id, [0] * WEEKS)[index[week]] += n
    ranked = sorted(per_account, key=lambda account_id: -sum(per_account[account_id]))
    drawn = ranked[:ACCOUNTS_DRAWN]
    names = dict(AwsAccount.objects.filter(account_id__in=drawn).values_list("account_id", "name"))
    series: dict[str, list[int]] = {}
    for account_id in drawn:
        series[names.get(account_id, f"{account_id} (unknown)")] = per_account[account_id]
    if len(ranked) > ACCOUNTS_DRAWN:
        series[OTHER_ACCOUNTS] = [
            sum(per_account[a][i] for a in ranked[ACCOUNTS_DRAWN:]) for i in range(WEEKS)
        ]
    return [f"{start:%d %b}" for start in starts], series


def open_findings_by_severity() -> list[tuple[str, str, int]]:
    counts = dict(
        Finding.objects.filter(status=FindingStatus.OPEN).values_list("severity").annotate(n=Count("id"))
    )
    return [(severity.value, str(severity.label), counts.get(severity.value, 0)) for severity in Severity]


def sessions_per_month(
    *, now: datetime
) -> tuple[list[str], list[int], list[float | None], list[float | None]]:
    """Sessions checked out each month, with the median hours from request to approval and from
    check-in to the confirmed rotation."""
    starts = _month_starts(now, MONTHS)
    index = {start: i for i, start in enumerate(starts)}
    rows = (
        AccessRequest.objects.filter(checked_out_at__gte=starts[0])
        .annotate(month=TruncMonth("checked_out_at", tzinfo=UTC))
        .values("month")
        .annotate(
            n=Count("id"),
            to_approval=Median(
                ExpressionWrapper(F("approved_at") - F("created_at"), output_field=DurationField())
            ),
            to_rotation=Median(
                ExpressionWrapper(
                    F("rotation_confirmed_at") - F("checked_in_at"), output_field=DurationField()
                )
            ),
        )
    )
    sessions = [0] * MONTHS
    approval: list[float | None] = [None] * MONTHS
    rotation: list[float | None] = [None] * MONTHS
    for row in rows:
        i = index[row["month"]]
        sessions[i] = row["n"]
        approval[i] = _hours(row["to_approval"])
        rotation[i] = _hours(row["to_rotation"])
    return [f"{start:%b %y}" for start in starts], sessions, approval, rotation


def reviews_overdue(*, now: datetime) -> tuple[list[AccountDue], int]:
    """The first ``ACCOUNTS_LISTED`` accounts with a live grant nobody reviewed within
    ``PORTAL_REVIEW_INTERVAL_DAYS`` (a grant never reviewed counts from the day it was given), the
    longest overdue first, and how many accounts there are in all."""
    cutoff = now - timedelta(days=settings.PORTAL_REVIEW_INTERVAL_DAYS)
    overdue = live_grant_q("grants__", now=now) & (
        Q(grants__last_reviewed_at__lt=cutoff)
        | Q(grants__last_reviewed_at__isnull=True, grants__created_at__lt=cutoff)
    )
    accounts = (
        AwsAccount.objects.annotate(
            overdue_grants=Count("grants", filter=overdue),
            since=Min(Coalesce("grants__last_reviewed_at", "grants__created_at"), filter=overdue),
        )
        .filter(overdue_grants__gt=0)
        .order_by("since", "name")
    )
    listed = [
        AccountDue(name=a.name, uuid=a.uuid, since=a.since, grants=a.overdue_grants)
        for a in accounts[:ACCOUNTS_LISTED]
    ]
    total = len(listed) if len(listed) < ACCOUNTS_LISTED else accounts.count()
    return listed, total


def drills_overdue(*, user: AnyUser) -> tuple[list[AccountDue], int]:
    """The first ``ACCOUNTS_LISTED`` accounts whose break-glass drill is overdue (the drills page's
    rule, longest overdue first) and how many there are in all."""
    accounts = accounts_by_drill_due(user=user, state="overdue")
    listed = [
        AccountDue(name=a.name, uuid=a.uuid, since=a.drill_due_at)  # type: ignore[attr-defined]
        for a in accounts[:ACCOUNTS_LISTED]
    ]
    total = len(listed) if len(listed) < ACCOUNTS_LISTED else accounts.count()
    return listed, total


def organisation_figures(*, user: AnyUser, now: datetime) -> OrganisationFigures:
    """Computes every organisation-wide figure (no cache; :func:`overview` keeps the result)."""
    weeks, by_account = root_events_per_week(now=now)
    months, sessions, approval, rotation = sessions_per_month(now=now)
    reviews, reviews_total = reviews_overdue(now=now)
    drills, drills_total = drills_overdue(user=user)
    return OrganisationFigures(
        as_of=now,
        weeks=weeks,
        events_by_account=by_account,
        months=months,
        sessions=sessions,
        median_hours_to_approval=approval,
        median_hours_to_rotation=rotation,
        reviews_overdue=reviews,
        reviews_overdue_total=reviews_total,
        drills_overdue=drills,
        drills_overdue_total=drills_total,
    )


def _cached_figures(*, user: AnyUser, now: datetime) -> OrganisationFigures:
    kept: OrganisationFigures | None = cache.get(_CACHE_KEY)
    if kept is not None and timedelta(0) <= now - kept.as_of < FRESH_FOR:
        return kept
    # Stale or missing. With a stale copy, only the request that takes the lock recomputes; the rest
    # show the stale copy meanwhile. Without one, everybody computes (the first minute after a start).
    locked = kept is not None and cache.add(_REFRESH_LOCK, True, timeout=_REFRESH_LOCK_SECONDS)
    if kept is not None and not locked:
        return kept
    try:
        figures = organisation_figures(user=user, now=now)
        cache.set(_CACHE_KEY, figures, timeout=_KEPT_FOR_SECONDS)
    finally:
        if locked:
            cache.delete(_REFRESH_LOCK)
    return figures


def overview(*, user: AnyUser, now: datetime) -> Overview | None:
    """The overview for auditors and administrators (who see every account); ``None`` for others."""
    if not policy.sees_every_account(user):
        return None
    return Overview(
        figures=_cached_figures(user=user, now=now), findings_by_severity=open_findings_by_severity()
    )
