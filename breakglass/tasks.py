"""Celery tasks of the break-glass workflow. Each takes ids, calls one service and owns only retries.

The names are stable (given explicitly): the beat schedule and the notifications outbox reach the
tasks by name, so moving a function never loses queued work.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from breakglass import reachability, retention, reviews, sweeps
from breakglass.notifications import delivery, outbox
from breakglass.notifications.senders import DeliveryError


@shared_task(
    bind=True,
    name=outbox.DELIVER_TASK,
    autoretry_for=(DeliveryError, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=delivery.MAX_ATTEMPTS - 1,
    acks_late=True,
)
def deliver_notification(self: Any, notification_id: int) -> str:
    """Send one notification; a failure that may pass is retried with exponential back-off.

    The last retry is told it is the last, so the notification ends FAILED (with its ledger entry)
    instead of staying QUEUED when Celery gives up.
    """
    max_retries = self.max_retries if self.max_retries is not None else delivery.MAX_ATTEMPTS - 1
    return delivery.notification_deliver(
        notification_id=notification_id, final_attempt=self.request.retries >= max_retries
    )


@shared_task(name="breakglass.tasks.requeue_stale_notifications", acks_late=True)
def requeue_stale_notifications() -> int:
    """Every five minutes (beat): hand notifications still queued after ten minutes to the workers
    again, for when the broker was down at commit time."""
    return outbox.notifications_requeue_stale(older_than_minutes=10)


@shared_task(name="breakglass.tasks.expire_access_requests", acks_late=True)
def expire_access_requests() -> int:
    """Every minute (beat): pending requests nobody decided in time and approved ones never
    checked out in their window expire."""
    return sweeps.access_requests_expire()


@shared_task(name="breakglass.tasks.remind_overdue_checkouts", acks_late=True)
def remind_overdue_checkouts() -> int:
    """Every minute (beat): announce check-outs past their due time, again at intervals."""
    return sweeps.checkouts_remind_overdue()


@shared_task(name="breakglass.tasks.flag_unreturned_devices", acks_late=True)
def flag_unreturned_devices() -> int:
    """Every fifteen minutes (beat): MFA devices not back in the safe in time become findings."""
    return len(sweeps.devices_not_returned())


@shared_task(name="breakglass.tasks.purge_old_notifications", acks_late=True)
def purge_old_notifications() -> int:
    """Daily (beat): delivered and failed notifications past PORTAL_RETENTION_NOTIFICATION_DAYS go,
    in ledgered batches; how many."""
    return retention.notifications_purge().rows


@shared_task(name="breakglass.tasks.close_due_reviews", acks_late=True)
def close_due_reviews() -> int:
    """Every hour (beat): close access reviews past their deadline (undecided grants expire)."""
    return reviews.review_campaigns_close_due()


@shared_task(name="breakglass.tasks.remind_reviewers", acks_late=True)
def remind_reviewers() -> int:
    """Every day (beat): remind reviewers of the decisions waiting for them."""
    return reviews.review_campaigns_remind()


@shared_task(name="breakglass.tasks.start_scheduled_review", acks_late=True)
def start_scheduled_review() -> str:
    """Every day (beat): start an access review when the last one started
    PORTAL_REVIEW_INTERVAL_DAYS ago (PCI DSS 7.2.4)."""
    campaign = reviews.review_campaign_start_if_due()
    return str(campaign.uuid) if campaign else ""


@shared_task(name="breakglass.tasks.ask_approvers_reachability", acks_late=True)
def ask_approvers_reachability() -> int:
    """Daily (beat): ask each approver not asked for PORTAL_REACHABILITY_INTERVAL_DAYS to confirm."""
    return reachability.reachability_ask_due()


@shared_task(name="breakglass.tasks.lapse_reachability_checks", acks_late=True)
def lapse_reachability_checks() -> int:
    """Hourly (beat): a check silent past its deadline lapses; the evidence side raises the finding."""
    return reachability.reachability_lapse_due()
