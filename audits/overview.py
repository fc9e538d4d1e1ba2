"""The auditors' and administrators' overview on the home page: the numbers behind its pictures.

Root events per week by account, open findings by severity, sessions per month with the median time
to approval and to rotation, and the accounts whose access review is overdue. Every figure is an
aggregate computed by PostgreSQL, so the page costs the same few queries with ten events or ten
million (``tests/test_overview.py`` counts them at two sizes). The pictures are drawn from these
numbers by :mod:`audits.charts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Min, Q
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek

from audits.choices import FindingStatus, Severity
from audits.models import Finding, RootEvent
from breakglass.models import AccessRequest, AwsAccount, live_grant_q
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

WEEKS = 12
MONTHS = 12
#: Accounts drawn on their own in the events chart; the rest share one colour.
ACCOUNTS_DRAWN = 5
OTHER_ACCOUNTS = "other accounts"


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5)``: the median of an interval (nulls are left out)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


@dataclass(frozen=True)
class OverdueReview:
    account: AwsAccount
    grants: int
    since: datetime


@dataclass(frozen=True)
class Overview:
    weeks: list[str]
    events_by_account: dict[str, list[int]]
    findings_by_severity: list[tuple[str, str, int]]  # (severity value, label, open count)
    months: list[str]
    sessions: list[int]
    median_hours_to_approval: list[float | None]
    median_hours_to_rotation: list[float | None]
    reviews_overdue: list[OverdueReview]
    # HOOK (drills, issue 11 item 1): when the break-glass drill model lands, fill this with the
    # accounts whose drill is overdue from its selector; the page shows the section only when this
    # is not None, so nothing here depends on that model yet.
    drills_overdue: list[Any] | None = field(default=None)

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
        .values("week", "aws_account_id")
        .annotate(n=Count("id"))
    )
    per_account: dict[str, list[int]] = {}
    for row in rows:
        counts = per_account.setdefault(row["aws_account_id"], [0] * WEEKS)
        counts[index[row["week"]]] += row["n"]
    names = dict(
        AwsAccount.objects.filter(account_id__in=list(per_account)).values_list("account_id", "name")
    )
    ranked = sorted(per_account, key=lambda account_id: -sum(per_account[account_id]))
    series: dict[str, list[int]] = {}
    for account_id in ranked[:ACCOUNTS_DRAWN]:
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


def reviews_overdue(*, now: datetime) -> list[OverdueReview]:
    """Accounts with a live grant nobody reviewed within ``PORTAL_REVIEW_INTERVAL_DAYS`` (a grant
    never reviewed counts from the day it was given), the longest overdue first."""
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
    return [OverdueReview(account=a, grants=a.overdue_grants, since=a.since) for a in accounts]


def overview(*, user: AnyUser, now: datetime) -> Overview | None:
    """The overview for auditors and administrators (who see every account); ``None`` for others."""
    if not policy.sees_every_account(user):
        return None
    weeks, by_account = root_events_per_week(now=now)
    months, sessions, approval, rotation = sessions_per_month(now=now)
    return Overview(
        weeks=weeks,
        events_by_account=by_account,
        findings_by_severity=open_findings_by_severity(),
        months=months,
        sessions=sessions,
        median_hours_to_approval=approval,
        median_hours_to_rotation=rotation,
        reviews_overdue=reviews_overdue(now=now),
    )
