"""The outbox: notification rows written in the caller's transaction, handed to Celery on commit.

:func:`queue` is called by the lifecycle services inside the transaction of the change, and
:func:`queue_alert` by reconciliation inside the transaction that records a finding. Each writes one
``Notification`` row per person and per channel and asks Celery to deliver each only once the
transaction has committed: a rolled-back change leaves nothing behind and sends nothing, and a
committed one is never lost, because :func:`notifications_requeue_stale` (the sweep, every five
minutes) hands over again the rows whose hand-over to the broker failed.

Work reaches Celery by task name (:data:`DELIVER_TASK`), never by importing ``breakglass.tasks``: the
tasks import this wing, so importing them back would close a circle through the lifecycle.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from breakglass.choices import DeliveryStatus
from breakglass.models import AccessRequest, AwsAccount, Notification, NotificationChannel
from breakglass.notifications import audience
from breakglass.notifications.messages import (
    ALERT_EVENT,
    DRILL_OBSERVED_EVENT,
    REACHABILITY_EVENT,
    ROLE_GRANTED_EVENT,
    Wording,
    alert_wording,
    channel_body,
    drill_observed_wording,
    event_spec,
    event_wording,
    reachability_wording,
    review_wording,
    role_granted_wording,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

#: The Celery task that delivers one notification (``breakglass.tasks.deliver_notification``).
DELIVER_TASK = "breakglass.tasks.deliver_notification"


def queue(
    *, event: str, request: AccessRequest, actor: User | None = None, note: str = ""
) -> list[Notification]:
    """Write the notifications of ``event`` and deliver them once the current transaction commits.

    Call it inside the transaction of the change. People get one email each (even when they are,
    say, both approver and custodian); people without an email address are skipped. Raises
    ValueError for an event the wing does not know.
    """
    spec = event_spec(event)
    wording = event_wording(event=event, request=request, actor=actor, note=note)
    rows: list[Notification] = [
        Notification(
            request=request, event=event, recipient=person, subject=wording.subject, body=wording.body
        )
        for person in audience.event_people(spec, request=request, actor=actor)
    ]
    rows += [
        Notification(
            request=request,
            event=event,
            channel=channel,
            subject=wording.subject,
            body=channel_body(channel, wording),
        )
        for channel in audience.event_channels(spec, request=request)
    ]
    return save_and_deliver_on_commit(rows)


def queue_alert(
    *, finding_summary: str, subject: str, account: AwsAccount | None, payload: dict[str, Any]
) -> list[Notification]:
    """Announce a finding (root used without approval, say) at once, delivered after commit.

    Call it inside the transaction that records the finding. Who hears it is
    :func:`breakglass.notifications.audience.alert_audience`: never nobody. ``payload`` (JSON-safe,
    no secrets) is the webhook body's ``finding``.
    """
    wording = alert_wording(finding_summary=finding_summary, subject=subject, finding=payload)
    people, channels = audience.alert_audience(account)
    if not people and not channels:
        logger.warning("alert %r has nobody to go to: add a global notification channel", wording.subject)
    return save_and_deliver_on_commit(_rows(ALERT_EVENT, wording, people, channels))


def queue_role_granted(*, person: Any, roles: list[str], actor: Any, source: str) -> list[Notification]:
    """Tell the other administrators that ``person`` gained privileged ``roles``, after commit.

    Call it inside the transaction that changed the roles (``breakglass.identity``).
    """
    wording = role_granted_wording(person=person, roles=roles, actor=actor, source=source)
    people, channels = audience.role_change_audience(person=person, actor=actor)
    return save_and_deliver_on_commit(_rows(ROLE_GRANTED_EVENT, wording, people, channels))


def queue_review(*, event: str, campaign: Any, waiting: dict[Any, int]) -> list[Notification]:
    """Ask each reviewer in ``waiting`` (person: how many decisions wait for them) by email, after
    commit. Call it inside the transaction that starts the campaign or records the reminder."""
    counts = {person.pk: count for person, count in waiting.items()}
    rows = []
    for person in audience.review_audience(waiting):
        wording = review_wording(event=event, campaign=campaign, waiting=counts[person.pk])
        rows.append(Notification(event=event, recipient=person, subject=wording.subject, body=wording.body))
    return save_and_deliver_on_commit(rows)


def queue_drill_observed(
    *, request: AccessRequest, signed_in_at: datetime, ingest_delay: timedelta
) -> list[Notification]:
    """Announce a drill's matched root sign-in the way a critical alert is announced (the account's
    channels and people, :func:`audience.alert_audience`), linked to the drill's session so the
    delivery can be timed. Call it inside the transaction that records the observation."""
    wording = drill_observed_wording(request=request, signed_in_at=signed_in_at, ingest_delay=ingest_delay)
    people, channels = audience.alert_audience(request.account)
    rows = _rows(DRILL_OBSERVED_EVENT, wording, people, channels)
    for row in rows:
        row.request = request
    return save_and_deliver_on_commit(rows)


def queue_reachability(*, check: Any) -> list[Notification]:
    """Ask one approver to confirm they can be reached, by email, after commit."""
    wording = reachability_wording(check=check)
    people = audience.review_audience([check.approver])
    return save_and_deliver_on_commit(_rows(REACHABILITY_EVENT, wording, people, []))


def _rows(
    event: str, wording: Wording, people: Iterable[User], channels: Iterable[NotificationChannel]
) -> list[Notification]:
    """One notification per person (the plain wording) and per channel (in the channel's format)."""
    rows = [
        Notification(event=event, recipient=person, subject=wording.subject, body=wording.body)
        for person in people
    ]
    rows += [
        Notification(
            event=event, channel=channel, subject=wording.subject, body=channel_body(channel, wording)
        )
        for channel in channels
    ]
    return rows


def save_and_deliver_on_commit(rows: list[Notification]) -> list[Notification]:
    """Save ``rows`` (QUEUED) and hand each to a worker once the current transaction commits."""
    if not rows:
        return rows
    with transaction.atomic():
        created = Notification.objects.bulk_create(rows)
        for notification in created:
            # robust: a broker that is down must not turn a committed change into an error page;
            # the row stays QUEUED and requeue_stale_notifications hands it over later.
            transaction.on_commit(partial(_hand_to_worker, notification.pk), robust=True)
    return created


def _hand_over(notification_id: int) -> None:
    # A signature, unlike ``send_task``, runs in place when ``task_always_eager`` is set (tests,
    # benchmarks): it resolves the task registered under this name (breakglass.apps registers the
    # tasks in every process) and only falls back to sending the name to the broker.
    current_app.signature(DELIVER_TASK, args=(notification_id,)).apply_async()


def _hand_to_worker(notification_id: int) -> None:
    try:
        _hand_over(notification_id)
    except Exception as error:
        # Only the class name: a broker error's text may name the broker URL and its password.
        logger.warning(
            "could not queue notification %s (%s); requeue_stale_notifications will retry it",
            notification_id,
            type(error).__name__,
        )


# --- The sweep ------------------------------------------------------------------------------


def stale_notifications(*, cutoff: datetime) -> QuerySet[Notification]:
    """Notifications still queued and untouched since ``cutoff``, oldest first.

    Its condition is that of the partial index ``notification_to_send_idx`` (status QUEUED), so
    the sweep reads only the few rows still to send, however long the table of sent ones grows.
    """
    return Notification.objects.filter(status=DeliveryStatus.QUEUED, updated_at__lt=cutoff).order_by(
        "created_at"
    )


def notifications_requeue_stale(*, older_than_minutes: int = 10, limit: int = 500) -> int:
    """Hand again to the workers the notifications still queued with no attempt for a while: the
    broker may have been down when their transaction committed, or a worker lost them.

    Touches ``updated_at`` so the next run leaves them alone while they wait in the broker.
    A notification in its retry back-off is updated at each attempt (the back-off never exceeds
    ten minutes), so it is not queued twice.
    """
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    stale = list(stale_notifications(cutoff=cutoff).values_list("pk", flat=True)[:limit])
    requeued = 0
    for notification_id in stale:
        try:
            _hand_over(notification_id)
        except Exception as error:
            logger.warning("requeueing notifications stopped: the broker refused (%s)", type(error).__name__)
            break
        Notification.objects.filter(pk=notification_id, status=DeliveryStatus.QUEUED).update(
            updated_at=timezone.now()
        )
        requeued += 1
    if requeued:
        logger.info("requeued %s stale notification(s)", requeued)
    return requeued


__all__ = [
    "DELIVER_TASK",
    "notifications_requeue_stale",
    "queue",
    "queue_alert",
    "queue_drill_observed",
    "queue_reachability",
    "queue_role_granted",
    "save_and_deliver_on_commit",
    "stale_notifications",
]
