"""Channel administration, reads: administrators see every channel with its latest delivery; nobody
else sees any channel or delivery."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from breakglass.models import AccessRequest, Notification, NotificationChannel
from breakglass.notifications import selectors

pytestmark = pytest.mark.django_db


def test_an_administrator_sees_the_global_channels_first_then_by_account(
    administrator: Any, channels_of: dict[str, NotificationChannel]
) -> None:
    names = [channel.name for channel in selectors.notification_channels_visible_to(user=administrator)]
    assert names == ["security-team", "old-list", "payments-team", "web-team"]


def test_with_an_account_only_its_channels_and_the_global_ones_are_listed(
    administrator: Any, account: Any, channels_of: dict[str, NotificationChannel]
) -> None:
    channels = selectors.notification_channels_visible_to(user=administrator, account=account)
    assert sorted(channel.name for channel in channels) == ["old-list", "payments-team", "security-team"]


def test_each_channel_carries_its_latest_delivery(
    administrator: Any, access_request: AccessRequest, channels_of: dict[str, NotificationChannel]
) -> None:
    team = channels_of["account"]
    Notification.objects.create(request=access_request, event="request.created", channel=team, status="sent")
    Notification.objects.create(
        request=access_request, event="request.overdue", channel=team, status="failed", last_error="HTTP 500"
    )

    listed = {
        channel.name: channel for channel in selectors.notification_channels_visible_to(user=administrator)
    }

    assert (listed["payments-team"].last_status, listed["payments-team"].last_error) == (  # type: ignore[attr-defined]
        "failed",
        "HTTP 500",
    )
    assert listed["web-team"].last_status is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("persona", ["approver", "custodian", "auditor", "requester", "outsider"])
def test_nobody_else_sees_a_channel_or_a_delivery(
    request: pytest.FixtureRequest,
    persona: str,
    access_request: AccessRequest,
    channels_of: dict[str, NotificationChannel],
) -> None:
    user = request.getfixturevalue(persona)
    Notification.objects.create(
        request=access_request, event="request.created", channel=channels_of["account"]
    )

    assert not selectors.notification_channels_visible_to(user=user).exists()
    assert not selectors.recent_notifications(user=user)
    with pytest.raises(Http404):
        selectors.notification_channel_for(user=user, uuid=channels_of["account"].uuid)


def test_recent_notifications_are_newest_first(
    administrator: Any, access_request: AccessRequest, approver: Any
) -> None:
    first = Notification.objects.create(request=access_request, event="request.created", recipient=approver)
    second = Notification.objects.create(request=access_request, event="request.approved", recipient=approver)
    assert list(selectors.recent_notifications(user=administrator)) == [second, first]
