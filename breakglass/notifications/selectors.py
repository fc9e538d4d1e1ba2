"""Channel administration, reads: the channels an administrator may configure and recent deliveries.

Every read takes the person asking; someone who may not manage the inventory sees nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from breakglass.models import AwsAccount, Notification, NotificationChannel
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


def notification_channels_visible_to(
    *, user: AnyUser, account: AwsAccount | None = None
) -> QuerySet[NotificationChannel]:
    """The channels a person may configure (administrators: all), with their latest delivery.

    With ``account``, that account's channels and the global ones (which hear its emergencies).
    """
    if not policy.may_manage_inventory(user):
        return NotificationChannel.objects.none()
    channels_qs = NotificationChannel.objects.select_related("account")
    if account is not None:
        channels_qs = channels_qs.filter(Q(account=account) | Q(account__isnull=True))
    latest = Notification.objects.filter(channel=OuterRef("pk")).order_by("-created_at", "-pk")
    return channels_qs.annotate(
        last_status=Subquery(latest.values("status")[:1]),
        last_at=Subquery(latest.values("created_at")[:1]),
        last_error=Subquery(latest.values("last_error")[:1]),
    ).order_by(F("account__name").asc(nulls_first=True), "name", "pk")


def notification_channel_for(*, user: AnyUser, uuid: UUID) -> NotificationChannel:
    """One channel the person may configure, or 404."""
    try:
        return notification_channels_visible_to(user=user).get(uuid=uuid)
    except NotificationChannel.DoesNotExist:
        raise Http404("No such notification channel.") from None


def recent_notifications(*, user: AnyUser, limit: int = 25) -> QuerySet[Notification]:
    """The latest notifications of every kind, for administrators watching deliveries."""
    if not policy.may_manage_inventory(user):
        return Notification.objects.none()
    return Notification.objects.select_related("request", "recipient", "channel").order_by(
        "-created_at", "-pk"
    )[:limit]


__all__ = ["notification_channel_for", "notification_channels_visible_to", "recent_notifications"]
