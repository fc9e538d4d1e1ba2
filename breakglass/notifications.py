"""Who hears about a break-glass event, what they read, and the notification channels' services.

:func:`queue` is called by the lifecycle services inside the transaction of the change. It writes
one ``Notification`` row per person and per channel and asks Celery to deliver each only once the
transaction has committed (an outbox): a rolled-back change leaves nothing behind and sends nothing,
and a committed one is never lost, because ``requeue_stale_notifications`` re-queues rows whose
hand-over to the broker failed.

Nothing secret goes into a notification: no root password, no signing secret, no webhook URL.
"""

from __future__ import annotations

import json
import logging
import re
import secrets as random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Model, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone

from breakglass import channels
from breakglass import secrets as sealed
from breakglass.channels import DeliveryError, Message, PermanentDeliveryError
from breakglass.choices import ChannelKind, DeliveryStatus
from breakglass.crypto import CryptoError
from breakglass.models import AccessRequest, AwsAccount, Notification, NotificationChannel
from breakglass.root_tasks import BY_CODE as ROOT_TASKS
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError
from portal.policy import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

    AnyUser = AbstractBaseUser | AnonymousUser

logger = logging.getLogger(__name__)

#: One first try plus the task's six retries (``breakglass.tasks.deliver_notification``).
MAX_ATTEMPTS = 7
TEST_EVENT = "channel.test"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
_SUBJECT_PREFIX = "[Break-glass]"


# --- Events and their audiences -------------------------------------------------------------

# Audience groups, resolved per request by _people().
REQUESTER = "requester"
APPROVERS = "approvers"
UNDECIDED_APPROVERS = "undecided_approvers"
CUSTODIANS = "custodians"
ADMINISTRATORS = "administrators"


@dataclass(frozen=True)
class EventSpec:
    """Who hears about an event and the words they read.

    ``headline`` and ``next_step`` are ``str.format`` templates over the names in
    :func:`_facts` (plain text; the email templates are rendered without HTML escaping).
    """

    people: tuple[str, ...]
    summary: str
    headline: str
    next_step: str = ""
    account_channels: bool = False
    global_channels: bool = False
    # Emergencies and revocations reach everyone, the person who caused them included: they are
    # the events an attacker with a stolen session would most like nobody to notice.
    include_actor: bool = False


_EVERYONE = (REQUESTER, APPROVERS, CUSTODIANS, ADMINISTRATORS)

EVENTS: dict[str, EventSpec] = {
    "request.created": EventSpec(
        people=(APPROVERS,),
        account_channels=True,
        summary="needs approval",
        headline="{requester} asks to use the root user of {account} for: {task}.",
        next_step="Approvers: open the request to approve or deny it (you will be asked to re-authenticate).",
    ),
    "request.decision": EventSpec(
        people=(REQUESTER,),
        summary="decision by {actor}",
        headline="{actor} decided on the request to use the root user of {account}.",
    ),
    "request.approved": EventSpec(
        people=(REQUESTER,),
        summary="approved",
        headline="The request to use the root user of {account} has been approved.",
        next_step="Check out the credential between {starts_at} and {window_ends_at}.",
    ),
    "request.denied": EventSpec(
        people=(REQUESTER,),
        summary="denied",
        headline="The request to use the root user of {account} has been denied.",
    ),
    "request.cancelled": EventSpec(
        people=(UNDECIDED_APPROVERS,),
        summary="cancelled",
        headline="{requester} cancelled the request to use the root user of {account}.",
        next_step="No decision is needed any more.",
    ),
    "request.expired": EventSpec(
        people=(REQUESTER,),
        summary="expired",
        headline="The request to use the root user of {account} has expired.",
        next_step="Ask again if the task still needs doing.",
    ),
    "request.checked_out": EventSpec(
        people=(CUSTODIANS,),
        account_channels=True,
        summary="checked out",
        headline="{requester} checked out the root credential of {account}, due back at {due_at}.",
    ),
    "request.checked_in": EventSpec(
        people=(CUSTODIANS,),
        account_channels=True,
        summary="returned",
        headline="The root credential of {account} was returned by {requester}.",
        next_step="Custodians: rotate the root password and review the session to close it.",
    ),
    "request.rotation_confirmed": EventSpec(
        people=(REQUESTER, CUSTODIANS),
        summary="password rotated",
        headline="The root password of {account} was rotated after the session of {requester}.",
    ),
    "request.closed": EventSpec(
        people=(REQUESTER,),
        summary="closed",
        headline="The session on the root user of {account} was reviewed and closed.",
    ),
    "request.overdue": EventSpec(
        people=(REQUESTER, CUSTODIANS),
        account_channels=True,
        summary="OVERDUE",
        headline="The root credential of {account} checked out by {requester} was due back at {due_at}.",
        next_step="Return the credential now, or ask a custodian to record its return.",
    ),
    "request.emergency": EventSpec(
        people=_EVERYONE,
        account_channels=True,
        global_channels=True,
        include_actor=True,
        summary="EMERGENCY root access without approval",
        headline="{requester} self-authorised emergency use of the root user of {account}.",
        next_step="Approvers: review the session now; approvals are collected afterwards.",
    ),
    "request.revoked": EventSpec(
        people=_EVERYONE,
        account_channels=True,
        global_channels=True,
        include_actor=True,
        summary="REVOKED",
        headline="{actor} revoked the request of {requester} to use the root user of {account}.",
    ),
}


# --- Queueing -------------------------------------------------------------------------------


def queue(
    *, event: str, request: AccessRequest, actor: User | None = None, note: str = ""
) -> list[Notification]:
    """Write the notifications of ``event`` and deliver them once the current transaction commits.

    Call it inside the transaction of the change. People get one email each (even when they are,
    say, both approver and custodian); people without an email address are skipped. Raises
    ValueError for an event this module does not know.
    """
    spec = EVENTS.get(event)
    if spec is None:
        raise ValueError(f"unknown notification event {event!r}")
    facts = _facts(request=request, actor=actor, note=note)
    subject = _subject(spec, facts)
    body = render_to_string(
        "breakglass/email/notification.txt",
        {
            **facts,
            "headline": spec.headline.format(**facts),
            "next_step": spec.next_step.format(**facts),
            "subject": subject,
            "event": event,
        },
    )
    payload = _payload(event=event, request=request, actor=actor, note=note, subject=subject, text=body)

    rows: list[Notification] = []
    for person in _people(spec, request=request, actor=actor):
        rows.append(Notification(request=request, event=event, recipient=person, subject=subject, body=body))
    for channel in _channels(spec, request=request):
        rows.append(
            Notification(
                request=request,
                event=event,
                channel=channel,
                subject=subject,
                body=_channel_body(channel, body=body, payload=payload),
            )
        )
    return _save_and_deliver_on_commit(rows)


def _save_and_deliver_on_commit(rows: list[Notification]) -> list[Notification]:
    if not rows:
        return rows
    with transaction.atomic():
        created = Notification.objects.bulk_create(rows)
        for notification in created:
            # robust: a broker that is down must not turn a committed change into an error page;
            # the row stays QUEUED and requeue_stale_notifications hands it over later.
            transaction.on_commit(partial(_hand_to_worker, notification.pk), robust=True)
    return created


#: The event name of finding alerts (``queue_alert``); such notifications belong to no request.
ALERT_EVENT = "finding.alert"


def queue_alert(
    *, finding_summary: str, subject: str, account: AwsAccount | None, payload: dict[str, Any]
) -> list[Notification]:
    """Announce a finding (root used without approval, say) at once, delivered after commit.

    Call it inside the transaction that records the finding. A known account's alert goes to its
    notification channels and to its approvers and custodians by email; an account the inventory does
    not know has nobody of its own, so its alert goes to the global (security) channels. When that
    leaves nobody to tell, the global channels and then the administrators hear it: an alert must
    never go nowhere. ``payload`` (JSON-safe, no secrets) is the webhook body's ``finding``.
    """
    line = _one_line(f"{_SUBJECT_PREFIX} ALERT {subject}")
    url = str(payload.get("url") or "")
    lines = [finding_summary.strip(), ""]
    if url:
        lines.append(f"Open the finding: {url}")
    lines.append("Triage it in the portal (acknowledge, resolve or mark a false positive) with a note.")
    body = "\n".join(lines) + "\n"
    webhook = {
        "event": ALERT_EVENT,
        "finding": payload,
        "request": None,
        "actor": None,
        "note": "",
        "subject": line,
        "text": body,
    }
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
    targets = list(NotificationChannel.objects.filter(where, enabled=True).order_by("name", "pk"))
    if not people and not targets and account is not None:
        targets = list(
            NotificationChannel.objects.filter(account__isnull=True, enabled=True).order_by("name", "pk")
        )
    if not people and not targets:
        people = list(
            _active_people()
            .filter(Q(groups__name=Role.ADMINISTRATOR.value) | Q(is_superuser=True))
            .distinct()
            .order_by("username")
        )
    if not people and not targets:
        logger.warning("alert %r has nobody to go to: add a global notification channel", line)
    rows = [Notification(event=ALERT_EVENT, recipient=person, subject=line, body=body) for person in people]
    rows += [
        Notification(
            event=ALERT_EVENT,
            channel=channel,
            subject=line,
            body=_channel_body(channel, body=body, payload=webhook),
        )
        for channel in targets
    ]
    return _save_and_deliver_on_commit(rows)


def _hand_to_worker(notification_id: int) -> None:
    from breakglass.tasks import deliver_notification

    try:
        deliver_notification.delay(notification_id)
    except Exception as error:
        # Only the class name: a broker error's text may name the broker URL and its password.
        logger.warning(
            "could not queue notification %s (%s); requeue_stale_notifications will retry it",
            notification_id,
            type(error).__name__,
        )


def _active_people() -> QuerySet[User]:
    return get_user_model().objects.filter(is_active=True).exclude(email="")


def _people(spec: EventSpec, *, request: AccessRequest, actor: User | None) -> list[User]:
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
            # As in portal.policy.roles: a superuser counts as an administrator.
            add(
                people.filter(Q(groups__name=Role.ADMINISTRATOR.value) | Q(is_superuser=True))
                .distinct()
                .order_by("username")
            )
        else:  # pragma: no cover - EVENTS is a constant
            raise ValueError(f"unknown audience {group!r}")
    if actor is not None and not spec.include_actor:
        found.pop(actor.pk, None)
    return list(found.values())


def _channels(spec: EventSpec, *, request: AccessRequest) -> list[NotificationChannel]:
    where = Q(pk__in=[])
    if spec.account_channels:
        where |= Q(account_id=request.account_id)
    if spec.global_channels:
        where |= Q(account__isnull=True)
    return list(NotificationChannel.objects.filter(where, enabled=True).order_by("name", "pk"))


def _channel_body(channel: NotificationChannel, *, body: str, payload: dict[str, Any]) -> str:
    # A JSON webhook sends the payload as it was when the event happened (status, note), so the
    # row keeps that payload; ``sent_at`` is added at each attempt.
    if channel.kind == ChannelKind.WEBHOOK:
        return json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return body


def _person(user: Any) -> str:
    if user is None:
        return "the portal"
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    username = user.get_username()
    return f"{full_name} ({username})" if full_name else username


def _local(moment: Any) -> str:
    if moment is None:
        return "-"
    return str(timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z"))


def request_link(request: AccessRequest) -> str:
    """The request's page, absolute, for people reading the message outside the portal."""
    base = str(getattr(settings, "PORTAL_BASE_URL", "") or DEFAULT_BASE_URL).rstrip("/")
    return f"{base}/inventory/requests/{request.uuid}/"


def _task_title(request: AccessRequest) -> str:
    task = ROOT_TASKS.get(request.root_task)
    title = task.title if task is not None else request.root_task
    if request.other_task:
        title = f"{title}: {request.other_task}"
    return title


def _facts(*, request: AccessRequest, actor: User | None, note: str) -> dict[str, Any]:
    account = request.account
    return {
        "code": request.code,
        "account": f"{account.name} ({account.account_id})",
        "account_name": account.name,
        "account_id": account.account_id,
        "task": _task_title(request),
        "requester": _person(request.requester),
        "actor": _person(actor),
        "status": request.get_status_display(),
        "emergency": request.emergency,
        "justification": request.justification,
        "ticket_reference": request.ticket_reference,
        "starts_at": _local(request.starts_at),
        "window_ends_at": _local(request.window_ends_at),
        "duration_minutes": request.duration_minutes,
        "due_at": _local(request.due_at),
        "note": note.strip(),
        "link": request_link(request),
    }


_WHITESPACE = re.compile(r"\s+")


def _one_line(text: str, *, limit: int = 290) -> str:
    # Mail headers cannot hold newlines (Django refuses them as header injection), and an account
    # name or a comment could bring one in.
    line = _WHITESPACE.sub(" ", text).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _subject(spec: EventSpec, facts: dict[str, Any]) -> str:
    summary = spec.summary.format(**facts)
    return _one_line(f"{_SUBJECT_PREFIX} {facts['code']} {summary}: {facts['account']}")


def _payload(
    *,
    event: str,
    request: AccessRequest | None,
    actor: User | None,
    note: str,
    subject: str,
    text: str,
) -> dict[str, Any]:
    """The JSON webhook body, less ``sent_at``. Documented for receivers in the channels page."""
    return {
        "event": event,
        "request": None
        if request is None
        else {
            "code": request.code,
            "uuid": str(request.uuid),
            "account_id": request.account.account_id,
            "account_name": request.account.name,
            "status": request.status,
            "root_task": request.root_task,
            "requester": request.requester.get_username(),
            "emergency": request.emergency,
            "url": request_link(request),
        },
        "actor": actor.get_username() if actor is not None else None,
        "note": note.strip(),
        "subject": subject,
        "text": text,
    }


# --- Delivery (called by breakglass.tasks.deliver_notification) -----------------------------


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
            return "sent"
    # Raised after the block so the attempt above is committed, not rolled back with the exception.
    raise retry_error


def _send(notification: Notification) -> None:
    channel = notification.channel
    if notification.recipient is not None:
        address = notification.recipient.email
        if not address or not notification.recipient.is_active:
            raise PermanentDeliveryError("the recipient has no email address or is no longer active")
        channels.send_email(to=[address], message=Message(notification.subject, notification.body))
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
    channels.send_channel(channel, Message(notification.subject, body, payload))


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
    return _one_line(text, limit=490)


def notifications_requeue_stale(*, older_than_minutes: int = 10, limit: int = 500) -> int:
    """Hand again to the workers the notifications still queued with no attempt for a while: the
    broker may have been down when their transaction committed, or a worker lost them.

    Touches ``updated_at`` so the next run leaves them alone while they wait in the broker.
    A notification in its retry back-off is updated at each attempt (the back-off never exceeds
    ten minutes), so it is not queued twice.
    """
    from breakglass.tasks import deliver_notification

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    stale = list(
        Notification.objects.filter(status=DeliveryStatus.QUEUED, updated_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    requeued = 0
    for notification_id in stale:
        try:
            deliver_notification.delay(notification_id)
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


# --- Channels: reads ------------------------------------------------------------------------


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


# --- Channels: writes -----------------------------------------------------------------------


def _require_admin(actor: User) -> None:
    if not policy.may_manage_inventory(actor):
        raise DomainError("Only a portal administrator with MFA may configure notification channels.")


def _channel_data(channel: NotificationChannel) -> dict[str, Any]:
    # Never the target (a webhook URL is a secret) nor the signing secret.
    return {
        "kind": channel.kind,
        "name": channel.name,
        "account_id": channel.account.account_id if channel.account is not None else None,
    }


def notification_channel_create(
    *, actor: User, account: AwsAccount | None, kind: str, name: str, target: str
) -> tuple[NotificationChannel, str]:
    """Add a channel to ``account`` (or a global one with ``account=None``).

    Returns the channel and, for a JSON webhook, its signing secret, generated here. Show it to the
    administrator once: only its sealed form is stored, and nothing can show it again.
    """
    _require_admin(actor)
    if kind not in ChannelKind.values:
        raise DomainError({"kind": "Choose a kind of channel."})
    name = name.strip()
    if not name:
        raise DomainError({"name": "Give the channel a name."})
    try:
        target = channels.validate_target(kind, target)
    except ValidationError as error:
        raise DomainError({"target": error.messages}) from None
    channel = NotificationChannel(account=account, kind=kind, name=name, target=target)
    secret = ""
    if kind == ChannelKind.WEBHOOK:
        secret = random.token_urlsafe(32)
        # The channel's UUID is set on construction, so the secret is bound to it before saving.
        channels.seal_signing_secret(channel=channel, secret=secret)
    with transaction.atomic():
        channel.save()
        ledger.record(
            actor=actor, action="notification_channel.created", target=channel, data=_channel_data(channel)
        )
    return channel, secret


def notification_channel_set_enabled(
    *, actor: User, channel: NotificationChannel, enabled: bool
) -> NotificationChannel:
    """Switch a channel on or off. Recorded, since silencing a channel hides what follows."""
    _require_admin(actor)
    with transaction.atomic():
        locked = (
            NotificationChannel.objects.select_for_update(of=("self",))
            .select_related("account")
            .get(pk=channel.pk)
        )
        if locked.enabled == enabled:
            return locked
        locked.enabled = enabled
        locked.save(update_fields=["enabled", "updated_at"])
        ledger.record(
            actor=actor,
            action="notification_channel.enabled" if enabled else "notification_channel.disabled",
            target=locked,
            data=_channel_data(locked),
        )
    return locked


def notification_channel_delete(*, actor: User, channel: NotificationChannel) -> None:
    """Delete a channel. Its past notifications stay (without the channel) as evidence; those
    still queued are marked failed, since they can no longer be delivered."""
    _require_admin(actor)
    with transaction.atomic():
        locked = (
            NotificationChannel.objects.select_for_update(of=("self",))
            .select_related("account")
            .get(pk=channel.pk)
        )
        dropped = locked.notifications.filter(status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.FAILED,
            last_error="the channel was deleted before delivery",
            updated_at=timezone.now(),
        )
        ledger.record(
            actor=actor,
            action="notification_channel.deleted",
            target=locked,
            data={**_channel_data(locked), "queued_dropped": dropped},
        )
        locked.delete()


def notification_channel_send_test(*, actor: User, channel: NotificationChannel) -> Notification:
    """Queue a test message to ``channel`` so an administrator sees it arrive (or fail)."""
    _require_admin(actor)
    if not channel.enabled:
        raise DomainError("Enable the channel before sending it a test message.")
    subject = _one_line(f"{_SUBJECT_PREFIX} Test message to channel {channel.name}")
    note = "This is a test message from the root break-glass portal. No action is needed."
    body = render_to_string(
        "breakglass/email/channel_test.txt",
        {
            "channel": channel,
            "actor": _person(actor),
            "note": note,
            "base_url": str(getattr(settings, "PORTAL_BASE_URL", "") or DEFAULT_BASE_URL).rstrip("/"),
        },
    )
    payload = _payload(event=TEST_EVENT, request=None, actor=actor, note=note, subject=subject, text=body)
    notification = Notification(
        event=TEST_EVENT,
        channel=channel,
        subject=subject,
        body=_channel_body(channel, body=body, payload=payload),
    )
    with transaction.atomic():
        (created,) = _save_and_deliver_on_commit([notification])
        ledger.record(
            actor=actor,
            action="notification_channel.test_queued",
            target=channel,
            data=_channel_data(channel),
        )
    return created


def notification_channel_secrets_reencrypt(*, actor: User | None = None) -> int:
    """Re-seal every channel signing secret not sealed under the keyring's primary key.

    Run it with ``reencrypt_root_credentials`` when rotating ``PORTAL_ENCRYPTION_KEYS``, before the
    old key is removed; otherwise signed webhooks stop (their secret no longer opens). Returns how
    many were re-sealed.
    """
    ring = sealed.keyring()
    reencrypted = 0
    with transaction.atomic():
        for channel in (
            NotificationChannel.objects.select_for_update(of=("self",))
            .select_related("account")
            .filter(signing_secret__isnull=False)
            .order_by("pk")
        ):
            assert channel.signing_secret is not None
            token = bytes(channel.signing_secret)
            try:
                if not ring.needs_reencryption(token):
                    continue
                old_key_id = ring.key_id_of(token)
                channel.signing_secret = ring.reencrypt(token, aad=channels.signing_secret_aad(channel))
            except CryptoError as error:
                raise DomainError(
                    f"The signing secret of channel {channel.name!r} cannot be re-sealed "
                    f"({type(error).__name__}): is its old key still in PORTAL_ENCRYPTION_KEYS?"
                ) from None
            channel.save(update_fields=["signing_secret", "updated_at"])
            ledger.record(
                actor=actor,
                action="notification_channel.secret_reencrypted",
                target=channel,
                data={**_channel_data(channel), "from_key": old_key_id, "to_key": ring.primary_key_id},
            )
            reencrypted += 1
    return reencrypted


__all__ = [
    "ALERT_EVENT",
    "EVENTS",
    "MAX_ATTEMPTS",
    "TEST_EVENT",
    "notification_channel_create",
    "notification_channel_delete",
    "notification_channel_for",
    "notification_channel_secrets_reencrypt",
    "notification_channel_send_test",
    "notification_channel_set_enabled",
    "notification_channels_visible_to",
    "notification_deliver",
    "notifications_requeue_stale",
    "queue",
    "queue_alert",
    "recent_notifications",
    "request_link",
]
