"""Retention of the notifications outbox: delivered and failed notifications go after
``PORTAL_RETENTION_NOTIFICATION_DAYS``; queued ones never do (they are still to be sent).

Each delivery and failure already has its ledger entry, which is the evidence and is never purged;
the notification row itself (subject, body, attempts) is operational. See ``ledger.retention``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from breakglass.choices import DeliveryStatus
from breakglass.models import Notification
from ledger.retention import PurgeOutcome, purge_in_batches

#: Only these end a notification's life; a QUEUED one is work the outbox sweep may still hand over.
FINISHED = (DeliveryStatus.SENT, DeliveryStatus.FAILED)


def notification_cutoff(now: datetime | None = None) -> datetime:
    """Notifications created before this moment may be purged."""
    return (now or timezone.now()) - timedelta(days=settings.PORTAL_RETENTION_NOTIFICATION_DAYS)


def purgeable_notifications(cutoff: datetime) -> QuerySet[Notification]:
    """Delivered or failed notifications created before ``cutoff``."""
    return Notification.objects.filter(status__in=FINISHED, created_at__lt=cutoff)


def notifications_purge(*, dry_run: bool = False, now: datetime | None = None) -> PurgeOutcome:
    """Purge finished notifications older than the retention period, in ledgered batches."""
    cutoff = notification_cutoff(now)
    return purge_in_batches(candidates=purgeable_notifications(cutoff), cutoff=cutoff, dry_run=dry_run)
