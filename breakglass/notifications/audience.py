"""Who hears about an event: the people (each once, by email) and the notification channels.

Reads only. People without an email address, and people no longer active, are never in an audience.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from breakglass.models import AccessRequest, AwsAccount, NotificationChannel
from breakglass.notifications.messages import (
    ADMINISTRATORS,
    APPROVERS,
    CUSTODIANS,
    REQUESTER,
    UNDECIDED_APPROVERS,
    EventSpec,
)
from portal.policy import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _active_people() -> QuerySet[User]:
    return get_user_model().objects.filter(is_active=True).exclude(email="")


def _administrators(people: QuerySet[User]) -> QuerySet[User]:
    # As in portal.policy.roles: a superuser counts as an administrator.
    return (
        people.filter(Q(groups__name=Role.ADMINISTRATOR.value) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


def _enabled_channels(where: Q) -> list[NotificationChannel]:
    return list(NotificationChannel.objects.filter(where, enabled=True).order_by("name", "pk"))


def event_people(spec: EventSpec, *, request: AccessRequest, actor: User | None) -> list[User]:
    """The event's people, each once, in a stable order (group by group, then by username)."""
    account = request.account
    found: dict[int, User] = {}

    def add(users: Iterable[User]) -> None:
        for user in users:
            found.setdefault(user.pk, user)

    people = _active_people()
    for group in spec.people:
        if group == REQUESTER:
            add(people.filter(pk=request.requester_id))
        elif group == APPROVERS:
            add(people.filter(approver_for=account).order_by("username"))
        elif group == UNDECIDED_APPROVERS:
            decided = request.approvals.values("approver")
            add(people.filter(approver_for=account).exclude(pk__in=decided).order_by("username"))
        elif group == CUSTODIANS:
            add(people.filter(custodian_for=account).order_by("username"))
        elif group == ADMINISTRATORS:
            add(_administrators(people))
        else:  # pragma: no cover - EVENTS is a constant
            raise ValueError(f"unknown audience {group!r}")
    if actor is not None and not spec.include_actor:
        found.pop(actor.pk, None)
    return list(found.values())


def event_channels(spec: EventSpec, *, request: AccessRequest) -> list[NotificationChannel]:
    """The enabled channels that hear the event: the account's, the global ones, or both."""
    where = Q(pk__in=[])
    if spec.account_channels:
        where |= Q(account_id=request.account_id)
    if spec.global_channels:
        where |= Q(account__isnull=True)
    return _enabled_channels(where)


def alert_audience(account: AwsAccount | None) -> tuple[list[User], list[NotificationChannel]]:
    """Who hears a finding alert: people by email and channels.

    A known account's alert goes to its notification channels and to its approvers and custodians; an
    account the inventory does not know has nobody of its own, so its alert goes to the global
    (security) channels. When that leaves nobody to tell, the global channels and then the
    administrators hear it: an alert must never go nowhere.
    """
    people: list[User] = []
    if account is not None:
        people = list(
            _active_people()
            .filter(Q(approver_for=account) | Q(custodian_for=account))
            .distinct()
            .order_by("username")
        )
        where = Q(account=account)
    else:
        where = Q(account__isnull=True)
    channels = _enabled_channels(where)
    if not people and not channels and account is not None:
        channels = _enabled_channels(Q(account__isnull=True))
    if not people and not channels:
        people = list(_administrators(_active_people()))
    return people, channels


def role_change_audience(*, person: Any, actor: Any) -> tuple[list[User], list[NotificationChannel]]:
    """Who hears that someone gained a privileged role: the other administrators (not the person,
    not whoever gave it) and the global (security) channels."""
    others = [user.pk for user in (person, actor) if user is not None and user.pk is not None]
    people = list(_administrators(_active_people()).exclude(pk__in=others))
    return people, _enabled_channels(Q(account__isnull=True))


__all__ = ["alert_audience", "event_channels", "event_people", "role_change_audience"]


def review_audience(people: Iterable[Any]) -> list[User]:
    """Who of ``people`` (an access review's reviewers) can be asked by email: active, with an address."""
    return list(_active_people().filter(pk__in=[person.pk for person in people]))
