"""What time does to access requests: expiry of requests left undecided or never checked out, and
reminders for check-outs past their due time. Run periodically by the Celery beat tasks
(:mod:`breakglass.tasks`).

Each candidate is locked and checked again before it changes, so a sweep racing a person's action
changes nothing twice; status changes go through ``lifecycle.transition``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from breakglass import signals
from breakglass.choices import CustodyState, RequestStatus
from breakglass.lifecycle import lock_request, transition
from breakglass.models import AccessRequest, DeviceReturn, MfaDevice
from breakglass.notifications import outbox
from ledger import services as ledger

S = RequestStatus


def access_requests_expire(*, now: datetime | None = None) -> int:
    """Expire pending requests nobody decided in time and approved ones never checked out in their
    window. Returns how many expired."""
    now = now or timezone.now()
    pending_cutoff = now - timedelta(hours=settings.PORTAL_PENDING_EXPIRY_HOURS)
    # The window's end is derived (start + duration), so the candidates are filtered here and the
    # time rules are applied per row below; open requests are few.
    stale = AccessRequest.objects.filter(status__in=[S.PENDING, S.APPROVED]).only(
        "pk", "starts_at", "duration_minutes", "status", "created_at"
    )
    expired = 0
    for candidate in stale.iterator():
        if (
            candidate.status == S.PENDING
            and candidate.created_at >= pending_cutoff
            and candidate.window_ends_at >= now
        ):
            continue
        if candidate.status == S.APPROVED and candidate.window_ends_at >= now:
            continue
        with transaction.atomic():
            locked = lock_request(candidate)
            if locked.status not in (S.PENDING, S.APPROVED):
                continue
            transition(
                locked,
                S.EXPIRED,
                actor=None,
                note="not decided in time" if locked.status == S.PENDING else "not checked out in its window",
            )
            outbox.queue(event="request.expired", request=locked)
            expired += 1
    return expired


def checkouts_remind_overdue(*, now: datetime | None = None) -> int:
    """Announce active check-outs past their due time to the holder and the custodians, again every
    ``PORTAL_OVERDUE_REMINDER_MINUTES`` until they are returned. Returns how many were announced."""
    now = now or timezone.now()
    interval = timedelta(minutes=settings.PORTAL_OVERDUE_REMINDER_MINUTES)
    overdue = AccessRequest.objects.filter(status=S.ACTIVE, due_at__lt=now).filter(
        Q(last_overdue_notice_at__isnull=True) | Q(last_overdue_notice_at__lt=now - interval)
    )
    sent = 0
    for candidate in overdue.only("pk"):
        with transaction.atomic():
            locked = lock_request(candidate)
            if locked.status != S.ACTIVE or (
                locked.last_overdue_notice_at is not None and locked.last_overdue_notice_at >= now - interval
            ):
                continue
            locked.last_overdue_notice_at = now
            locked.save(update_fields=["last_overdue_notice_at", "updated_at"])
            assert locked.due_at is not None
            minutes = int((now - locked.due_at).total_seconds() // 60)
            ledger.record(
                actor=None,
                action="access_request.overdue_notice",
                target=locked,
                data={"code": locked.code, "minutes_overdue": minutes},
            )
            event = "request.task_overdue" if locked.is_assume_root else "request.overdue"
            outbox.queue(event=event, request=locked, note=f"{minutes} minutes overdue")
            sent += 1
    return sent


@dataclass(frozen=True)
class LateDevice:
    """An MFA device that did not come back in time from ``session``: given back at check-in and not
    confirmed in the safe (``unconfirmed``), or still with the holder after the session was due."""

    session: AccessRequest
    device: MfaDevice
    late_since: datetime
    unconfirmed: bool


def devices_not_returned(*, now: datetime | None = None) -> list[LateDevice]:
    """Find the devices late by more than ``PORTAL_DEVICE_RETURN_HOURS`` and announce them with the
    ``devices_not_returned`` signal (the evidence side raises the findings). Returns them."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.PORTAL_DEVICE_RETURN_HOURS)
    late = [
        LateDevice(session=row.request, device=row.device, late_since=row.returned_at, unconfirmed=True)
        for row in DeviceReturn.objects.filter(confirmed_at__isnull=True, returned_at__lt=cutoff)
        .select_related("request__account", "request__requester", "device")
        .order_by("returned_at", "pk")
    ]
    held = (
        AccessRequest.objects.filter(
            checked_out_at__isnull=False, checked_in_at__isnull=True, due_at__lt=cutoff
        )
        .select_related("account", "requester")
        .prefetch_related("devices")
        .order_by("due_at", "pk")
    )
    for session in held:
        for device in session.devices.all():
            if device.custody_state == CustodyState.CHECKED_OUT and device.holder_id == session.requester_id:
                assert session.due_at is not None  # filtered on it above
                late.append(
                    LateDevice(session=session, device=device, late_since=session.due_at, unconfirmed=False)
                )
    if late:
        with transaction.atomic():
            signals.devices_not_returned.send(sender=DeviceReturn, late=late)
    return late
