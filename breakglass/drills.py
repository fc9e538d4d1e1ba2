"""Break-glass drills (issue 9, item 4): every write of one, from scheduling to what the evidence side
measured.

A drill is an ordinary access request marked ``is_drill``, for the drill task (sign in as root and
out again), performed by a custodian the administrator names. The administrator's scheduling, under
step-up, stands in for the approvals (the request goes straight to APPROVED through
``lifecycle.transition``); from there the lifecycle is the normal one: check-out, hand-over,
check-in, rotation and review, by the same services and rules. Everyone is told in advance.

The evidence side (``audits.drill_findings``, on reconciliation and by beat) calls
:func:`drill_observe` when the drill's root ``ConsoleLogin`` arrived and matched the check-out, and
:func:`drill_mark_event_missing` when it never did; the notifications' delivery calls
:func:`drill_alert_delivered` / :func:`drill_alert_failed`. ``breakglass`` never imports ``audits``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from breakglass import rules
from breakglass.choices import DeliveryStatus, DrillResult, RequestStatus
from breakglass.lifecycle import FURTHEST_START, START_SLACK, new_request_code, transition
from breakglass.models import AccessRequest, AwsAccount, Drill, Notification, Transition
from breakglass.notifications import outbox
from breakglass.notifications.messages import DRILL_OBSERVED_EVENT, DRILL_SCHEDULED_EVENT
from breakglass.root_tasks import DRILL_TASK
from ledger import services as ledger
from portal.errors import DomainError
from portal.validators import check_request_texts

if TYPE_CHECKING:
    from django.contrib.auth.models import User

S = RequestStatus


def drill_schedule(
    *,
    administrator: User,
    account: AwsAccount,
    performer: User,
    starts_at: datetime,
    duration_minutes: int,
    note: str = "",
) -> Drill:
    """Schedule and announce a drill of ``account``: ``performer`` (a custodian) checks out inside the
    window, signs in as root, and checks in. The request is approved by the scheduling itself."""
    check_request_texts(justification=note)
    refusal = rules.refusal_to_schedule_drill(administrator, account, performer)
    if refusal is not None:
        raise DomainError(refusal)
    errors: dict[str, str] = {}
    now = timezone.now()
    if starts_at < now - START_SLACK:
        errors["starts_at"] = "The start cannot be in the past."
    elif starts_at > now + FURTHEST_START:
        errors["starts_at"] = "The start must be within the next 30 days."
    if duration_minutes < 15:
        errors["duration_minutes"] = "Give the drill at least 15 minutes."
    elif duration_minutes > account.max_session_minutes:
        errors["duration_minutes"] = f"{account} allows at most {account.max_session_minutes} minutes."
    if errors:
        raise DomainError(errors)
    justification = (
        f"Scheduled break-glass drill: prove that a root sign-in of {account.name} reaches the portal "
        "from CloudTrail, is matched to this check-out, and raises an alert that is delivered."
    )
    with transaction.atomic():
        request = AccessRequest.objects.create(
            code=new_request_code(),
            requester=performer,
            account=account,
            root_task=DRILL_TASK.code,
            justification=justification,
            ticket_reference="",
            starts_at=max(starts_at, now),
            duration_minutes=duration_minutes,
            is_drill=True,
        )
        Transition.objects.create(request=request, from_status="", to_status=S.PENDING, actor=administrator)
        ledger.record(
            actor=administrator,
            action="access_request.created",
            target=request,
            data={
                "code": request.code,
                "account_id": account.account_id,
                "root_task": DRILL_TASK.code,
                "drill": True,
                "performer": performer.get_username(),
                "starts_at": request.starts_at.isoformat(),
                "duration_minutes": duration_minutes,
            },
        )
        request.approved_at = now
        transition(
            request,
            S.APPROVED,
            actor=administrator,
            note="Drill scheduled by an administrator.",
            data={"drill": True},
        )
        drill = Drill.objects.create(request=request, scheduled_by=administrator, note=note.strip())
        ledger.record(
            actor=administrator,
            action="drill.scheduled",
            target=drill,
            data={
                "code": request.code,
                "account_id": account.account_id,
                "performer": performer.get_username(),
                "starts_at": request.starts_at.isoformat(),
                "duration_minutes": duration_minutes,
                "note": drill.note,
            },
        )
        outbox.queue(event=DRILL_SCHEDULED_EVENT, request=request, actor=administrator, note=drill.note)
    return drill


def _locked_drill(request_id: int) -> Drill | None:
    return (
        Drill.objects.select_for_update(of=("self",))
        .select_related("request__account", "request__requester")
        .filter(request_id=request_id)
        .first()
    )


def drill_observe(
    *,
    request_id: int,
    event_id: str,
    signed_in_at: datetime,
    ingested_at: datetime,
    now: datetime | None = None,
) -> Drill | None:
    """Record that the drill's root sign-in arrived (stored at ``ingested_at``) and matched its
    check-out, and queue the "drill observed" alert whose delivery closes the measurement. Once per
    drill: a later call (a re-run of reconciliation) changes nothing and returns None."""
    now = now or timezone.now()
    with transaction.atomic():
        drill = _locked_drill(request_id)
        if drill is None or drill.signed_in_at is not None:
            return None
        drill.root_event_id = event_id
        drill.signed_in_at = signed_in_at
        drill.ingested_at = ingested_at
        drill.observed_at = now
        # A record stored before the sign-in it describes would be a clock error; never a negative delay.
        drill.ingest_delay = max(ingested_at - signed_in_at, timedelta(0))
        drill.save()
        ledger.record(
            actor=None,
            action="drill.observed",
            target=drill,
            data={
                "code": drill.request.code,
                "account_id": drill.request.account.account_id,
                "event_id": event_id,
                "signed_in_at": signed_in_at.isoformat(),
                "ingested_at": ingested_at.isoformat(),
                "ingest_delay_seconds": drill.ingest_delay.total_seconds(),
                "late": drill.result == DrillResult.EVENT_MISSING,
            },
        )
        sent = outbox.queue_drill_observed(
            request=drill.request, signed_in_at=signed_in_at, ingest_delay=drill.ingest_delay
        )
        if not sent:
            _fail_alert(drill, reason="nobody to alert: the account has no channel and no approver")
    return drill


def drill_alert_delivered(*, request_id: int, delivered_at: datetime) -> Drill | None:
    """The first "drill observed" alert went out: store the delay and the result. Called by the
    delivery in its transaction; later deliveries of the same alert change nothing."""
    drill = _locked_drill(request_id)
    if drill is None or drill.signed_in_at is None or drill.alert_delivered_at is not None:
        return None
    assert drill.ingested_at is not None
    drill.alert_delivered_at = delivered_at
    drill.alert_delay = max(delivered_at - drill.ingested_at, timedelta(0))
    if not drill.result:
        drill.result = DrillResult.PASSED
    drill.save()
    ledger.record(
        actor=None,
        action="drill.alert_delivered",
        target=drill,
        data={
            "code": drill.request.code,
            "delivered_at": delivered_at.isoformat(),
            "alert_delay_seconds": drill.alert_delay.total_seconds(),
            "result": drill.result,
        },
    )
    return drill


def drill_alert_failed(*, request_id: int) -> Drill | None:
    """A "drill observed" alert failed for good: when none of its copies was or may still be
    delivered, the drill failed at the last link of the chain."""
    drill = _locked_drill(request_id)
    if drill is None or drill.alert_delivered_at is not None or drill.result:
        return None
    alive = Notification.objects.filter(
        request_id=request_id,
        event=DRILL_OBSERVED_EVENT,
        status__in=(DeliveryStatus.QUEUED, DeliveryStatus.SENT),
    )
    if alive.exists():
        return None
    _fail_alert(drill, reason="every copy of the drill's alert failed for good")
    return drill


def _fail_alert(drill: Drill, *, reason: str) -> None:
    drill.result = DrillResult.ALERT_FAILED
    drill.save(update_fields=["result", "updated_at"])
    ledger.record(
        actor=None,
        action="drill.alert_failed",
        target=drill,
        data={"code": drill.request.code, "reason": reason},
    )


def drill_mark_event_missing(*, drill: Drill, finding_code: str, now: datetime | None = None) -> Drill:
    """The drill's root sign-in did not arrive by its deadline: the drill failed (the evidence side
    raised the critical finding ``finding_code`` in this transaction)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_drill(drill.request_id)
        assert locked is not None
        if locked.signed_in_at is not None or locked.result:
            return locked
        locked.result = DrillResult.EVENT_MISSING
        locked.finding_code = finding_code
        locked.save(update_fields=["result", "finding_code", "updated_at"])
        ledger.record(
            actor=None,
            action="drill.event_missing",
            target=locked,
            data={
                "code": locked.request.code,
                "account_id": locked.request.account.account_id,
                "checked_in_at": locked.request.checked_in_at.isoformat()
                if locked.request.checked_in_at
                else None,
                "deadline": str(locked.event_deadline),
                "finding": finding_code,
                "at": now.isoformat(),
            },
        )
    return locked


def drills_awaiting_event(*, now: datetime, deadline: timedelta) -> list[Drill]:
    """Drills checked in more than ``deadline`` ago whose root sign-in has not arrived and that have
    no result yet (for the evidence side's beat task). A revoked drill proves nothing either way."""
    return list(
        Drill.objects.filter(
            signed_in_at__isnull=True,
            result="",
            request__checked_in_at__lte=now - deadline,
            request__status__in=(S.RETURNED, S.CLOSED),
        )
        .select_related("request__account", "request__requester")
        .order_by("request__checked_in_at")
    )


__all__: list[Any] = [
    "drill_alert_delivered",
    "drill_alert_failed",
    "drill_mark_event_missing",
    "drill_observe",
    "drill_schedule",
    "drills_awaiting_event",
]
