"""Delivery: send one queued notification and record the outcome (called by the Celery task
``breakglass.tasks.deliver_notification``, which owns the retries).

Success and final failure are ledger entries; an attempt that may succeed later is recorded on the
row and re-raised for the task to retry. Errors stored or logged never hold a secret.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from breakglass import drills
from breakglass.choices import ChannelKind, DeliveryStatus
from breakglass.models import Notification
from breakglass.notifications import senders
from breakglass.notifications.messages import DRILL_OBSERVED_EVENT, TEST_EVENT, one_line
from breakglass.notifications.senders import DeliveryError, Message, PermanentDeliveryError
from ledger import services as ledger

logger = logging.getLogger(__name__)

#: One first try plus the task's six retries (``breakglass.tasks.deliver_notification``).
MAX_ATTEMPTS = 7


def notification_deliver(*, notification_id: int, final_attempt: bool = False) -> str:
    """Send one queued notification and record the outcome. Returns ``"sent"``, ``"failed"``,
    ``"skipped"`` (no longer queued), ``"busy"`` (another worker holds it) or ``"missing"``.

    The row stays locked while sending, so two workers never send the same notification. When a
    retry may help and this is not the last attempt, the attempt is committed and the
    DeliveryError re-raised for the task to retry.
    """
    retry_error: DeliveryError | None = None
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("request__account", "request__requester", "recipient", "channel")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return "busy" if Notification.objects.filter(pk=notification_id).exists() else "missing"
        if notification.status != DeliveryStatus.QUEUED:
            return "skipped"
        try:
            _send(notification)
        except PermanentDeliveryError as error:
            notification.attempts += 1
            _mark_failed(notification, _safe_error(error, notification))
            return "failed"
        except (DeliveryError, OSError) as error:
            notification.attempts += 1
            message = _safe_error(error, notification)
            if final_attempt or notification.attempts >= MAX_ATTEMPTS:
                _mark_failed(notification, message)
                return "failed"
            notification.last_error = message
            notification.save(update_fields=["attempts", "last_error", "updated_at"])
            logger.info(
                "notification %s (%s to %s) attempt %s failed: %s",
                notification.pk,
                notification.event,
                _destination(notification),
                notification.attempts,
                message,
            )
            retry_error = error if isinstance(error, DeliveryError) else DeliveryError(message)
        else:
            notification.attempts += 1
            notification.status = DeliveryStatus.SENT
            notification.sent_at = timezone.now()
            notification.last_error = ""
            notification.save(update_fields=["attempts", "status", "sent_at", "last_error", "updated_at"])
            _record_outcome(notification, "notification.sent")
            if notification.event == DRILL_OBSERVED_EVENT and notification.request_id is not None:
                # The last link of a drill's alarm chain: time it, in this transaction.
                drills.drill_alert_delivered(
                    request_id=notification.request_id, delivered_at=notification.sent_at
                )
            return "sent"
    # Raised after the block so the attempt above is committed, not rolled back with the exception.
    raise retry_error


def _send(notification: Notification) -> None:
    channel = notification.channel
    if notification.recipient is not None:
        address = notification.recipient.email
        if not address or not notification.recipient.is_active:
            raise PermanentDeliveryError("the recipient has no email address or is no longer active")
        senders.send_email(to=[address], message=Message(notification.subject, notification.body))
        return
    if channel is None:
        raise PermanentDeliveryError("the channel was deleted before delivery")
    if not channel.enabled and notification.event != TEST_EVENT:
        raise PermanentDeliveryError("the channel was disabled before delivery")
    payload: dict[str, Any] | None = None
    body = notification.body
    if channel.kind == ChannelKind.WEBHOOK:
        try:
            payload = json.loads(notification.body)
        except ValueError:
            raise PermanentDeliveryError("the stored webhook payload is not JSON") from None
        body = str(payload.get("text", "")) if isinstance(payload, dict) else ""
    senders.send_channel(channel, Message(notification.subject, body, payload))


def _mark_failed(notification: Notification, message: str) -> None:
    notification.status = DeliveryStatus.FAILED
    notification.last_error = message
    notification.save(update_fields=["attempts", "status", "last_error", "updated_at"])
    logger.warning(
        "notification %s (%s to %s) failed for good after %s attempt(s): %s",
        notification.pk,
        notification.event,
        _destination(notification),
        notification.attempts,
        message,
    )
    _record_outcome(notification, "notification.failed")
    if notification.event == DRILL_OBSERVED_EVENT and notification.request_id is not None:
        drills.drill_alert_failed(request_id=notification.request_id)


def _destination(notification: Notification) -> str:
    if notification.recipient is not None:
        return notification.recipient.get_username()
    if notification.channel is not None:
        return f"channel {notification.channel.name!r}"
    return "a deleted channel"


def _record_outcome(notification: Notification, action: str) -> None:
    data: dict[str, Any] = {"event": notification.event, "attempts": notification.attempts}
    if notification.recipient is not None:
        data["recipient"] = notification.recipient.get_username()
    elif notification.channel is not None:
        data["channel"] = notification.channel.name
        data["kind"] = notification.channel.kind
    else:
        data["channel"] = None
    if action == "notification.failed":
        data["error"] = notification.last_error
    target: Model | None = notification.request or notification.channel
    ledger.record(actor=None, action=action, target=target, data=data)


def _safe_error(error: BaseException, notification: Notification) -> str:
    """An error message fit for ``last_error``, logs and the ledger.

    Senders already build messages without secrets; this is the belt to their braces: whatever
    slipped in, the channel's URL, its path and query (where Slack keeps its token) are cut out.
    """
    if isinstance(error, DeliveryError):
        text = str(error)
    elif isinstance(error, OSError) and error.strerror:
        text = f"{type(error).__name__}: {error.strerror}"
    else:
        text = type(error).__name__
    channel = notification.channel
    if channel is not None and channel.kind != ChannelKind.EMAIL and channel.target:
        parts = urlsplit(channel.target)
        for secret_part in (channel.target, parts.path, parts.query, parts.fragment):
            if secret_part and len(secret_part) > 1:
                text = text.replace(secret_part, "***")
    return one_line(text, limit=490)


__all__ = ["MAX_ATTEMPTS", "notification_deliver"]
