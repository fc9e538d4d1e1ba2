"""Reads of drills and reachability checks that depend on who asks (the drills page, the account
page, a drill's page, the approver's reachability page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.db.models import DateTimeField, ExpressionWrapper, F, Max, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from breakglass.choices import RequestStatus
from breakglass.models import AccessRequest, AwsAccount, Drill, ReachabilityCheck
from breakglass.selectors import account_search_q, visible_accounts_filter
from portal import policy

if TYPE_CHECKING:
    from breakglass.selectors import AnyUser

#: A drill is shown as due this long before its date, so there is time to schedule one.
DUE_SOON = timedelta(days=14)
_OPEN = (RequestStatus.PENDING, RequestStatus.APPROVED, RequestStatus.ACTIVE)


@dataclass
class AccountDrillStatus:
    """Where one account stands with its drills: the last one that ran, one scheduled or running,
    and when the next is due (``PORTAL_DRILL_INTERVAL_DAYS`` after the last, or after the account
    was added when it never had one)."""

    account: AwsAccount
    last: Drill | None
    upcoming: Drill | None
    due_at: datetime
    now: datetime

    @property
    def overdue(self) -> bool:
        return self.now > self.due_at

    @property
    def due_soon(self) -> bool:
        return not self.overdue and self.due_at - self.now <= DUE_SOON

    @property
    def state(self) -> str:
        if self.overdue:
            return "overdue"
        return "due soon" if self.due_soon else "up to date"


#: What the drills page shows of a drill and computes its status from (``drill_status``,
#: ``Drill.state``, the templates, ``person``): a drill's session row alone has thirteen times.
_SHOWN = (
    "uuid",
    "result",
    "signed_in_at",
    "ingest_delay",
    "alert_delay",
    "request__code",
    "request__status",
    "request__starts_at",
    "request__checked_out_at",
    "request__checked_in_at",
    "request__account",
    "request__requester__username",
    "request__requester__first_name",
    "request__requester__last_name",
)


def _visible_drills(user: AnyUser) -> QuerySet[Drill]:
    """The drills of the accounts the person may see: a drill is an announced exercise of the
    account, shown to whoever sees the account (its session's page keeps its own rule)."""
    accounts = AwsAccount.objects.filter(visible_accounts_filter(user)).values("pk")
    return Drill.objects.filter(request__account__in=accounts)


def drill_status(account: AwsAccount, drills: list[Drill], *, now: datetime) -> AccountDrillStatus:
    """The status of ``account`` given its drills (any order)."""
    ran = [d for d in drills if d.request.checked_in_at is not None]
    last = max(ran, key=lambda d: d.request.checked_in_at or now, default=None)
    upcoming = min(
        (d for d in drills if d.request.status in _OPEN), key=lambda d: d.request.starts_at, default=None
    )
    since = (
        last.request.checked_in_at if last is not None and last.request.checked_in_at else account.created_at
    )
    return AccountDrillStatus(
        account=account,
        last=last,
        upcoming=upcoming,
        due_at=since + timedelta(days=settings.PORTAL_DRILL_INTERVAL_DAYS),
        now=now,
    )


def accounts_by_drill_due(*, user: AnyUser, search: str = "", state: str = "") -> QuerySet[AwsAccount]:
    """The accounts the person may see, annotated with ``drill_due_at`` (the rule of
    :func:`drill_status`, computed in the database so the page can page and filter on it) and ordered
    by it: overdue first, then the soonest due. ``state`` is ``overdue`` or ``due_soon``."""
    # The last check-in of a drill, per account, as a correlated subquery: with the partial index
    # request_drill_checkin it is one index probe per account. The GROUP BY join it replaces read
    # every access request of the organization (50,000 for 5,000 accounts) on every page.
    last_drill = (
        AccessRequest.objects.filter(account=OuterRef("pk"), is_drill=True)
        .order_by()
        .values("account")
        .annotate(last=Max("checked_in_at"))
        .values("last")
    )
    accounts = AwsAccount.objects.annotate(
        drill_due_at=ExpressionWrapper(
            Coalesce(Subquery(last_drill, output_field=DateTimeField()), F("created_at"))
            + Value(timedelta(days=settings.PORTAL_DRILL_INTERVAL_DAYS)),
            output_field=DateTimeField(),
        )
    )
    visible = visible_accounts_filter(user)
    if visible:
        # Through a subquery, so the page's query does not depend on how the filter is written.
        accounts = accounts.filter(pk__in=AwsAccount.objects.filter(visible).values("pk"))
    if search:
        accounts = accounts.filter(account_search_q(search))
    now = timezone.now()
    if state == "overdue":
        accounts = accounts.filter(drill_due_at__lt=now)
    elif state == "due_soon":
        accounts = accounts.filter(drill_due_at__gte=now, drill_due_at__lte=now + DUE_SOON)
    return accounts.order_by("drill_due_at", "id")


def drill_statuses(accounts: list[AwsAccount], *, now: datetime | None = None) -> list[AccountDrillStatus]:
    """The drill status of each of ``accounts`` (one page of them), in their order: one query."""
    now = now or timezone.now()
    by_account: dict[int, list[Drill]] = {account.pk: [] for account in accounts}
    accounts_by_pk = {account.pk: account for account in accounts}
    # ``request__is_drill`` holds for every drill (drills.drill_schedule) and lets PostgreSQL read
    # the partial index request_drill_checkin instead of the sessions of the whole page's accounts.
    drills = (
        Drill.objects.filter(request__account__in=list(accounts_by_pk), request__is_drill=True)
        .select_related("request__requester")
        .only(*_SHOWN)
    )
    for drill in drills:
        # The page already holds the accounts: no second copy of each from the join.
        drill.request.account = accounts_by_pk[drill.request.account_id]
        by_account[drill.request.account_id].append(drill)
    return [drill_status(account, by_account[account.pk], now=now) for account in accounts]


def account_drill_status(*, account: AwsAccount, now: datetime | None = None) -> AccountDrillStatus:
    """The drill status of one account the caller already may see (the account page)."""
    drills = list(
        Drill.objects.filter(request__account=account).select_related(
            "request__account", "request__requester"
        )
    )
    return drill_status(account, drills, now=now or timezone.now())


def recent_drills(*, user: AnyUser, limit: int = 50) -> list[Drill]:
    """The latest drills of the accounts the person may see, newest first."""
    # ``request__is_drill`` (true of every drill) lets PostgreSQL walk the partial index
    # request_drill_newest and stop at ``limit``, instead of sorting every visible drill.
    return list(
        _visible_drills(user)
        .filter(request__is_drill=True)
        .select_related("request__account", "request__requester")
        .only(*_SHOWN, "request__account__name")
        .order_by("-request__starts_at")[:limit]
    )


def drill_for(*, user: AnyUser, uuid: UUID) -> Drill:
    """One drill of an account the person may see, else 404."""
    drill = (
        _visible_drills(user)
        .filter(uuid=uuid)
        .select_related("request__account", "request__requester", "request__checked_in_by", "scheduled_by")
        .first()
    )
    if drill is None:
        raise Http404("No such drill.")
    return drill


def may_schedule_drills(user: AnyUser) -> bool:
    return policy.may_manage_inventory(user)


def reachability_checks_of(*, user: AnyUser) -> list[ReachabilityCheck]:
    """The person's own reachability checks, newest first."""
    if not policy.may_use_portal(user):
        return []
    return list(ReachabilityCheck.objects.filter(approver=user.pk).order_by("-asked_at")[:20])


def reachability_check_for(*, user: AnyUser, uuid: UUID) -> ReachabilityCheck:
    """One of the person's own checks, else 404 (nobody confirms for another)."""
    check = ReachabilityCheck.objects.filter(uuid=uuid, approver=user.pk).select_related("approver").first()
    if check is None or not policy.may_use_portal(user):
        raise Http404("No such reachability check.")
    return check
