"""What people read: the events, the audience groups each one reaches, and the wording of every
subject, body and webhook payload (of request events, finding alerts and channel tests).

Plain functions of the request and the actor: nothing here writes to the database or sends anything.
Nothing secret goes into a message: no root password, no signing secret, no webhook URL.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.utils import timezone

from breakglass.choices import ChannelKind
from breakglass.models import AccessRequest, NotificationChannel
from portal.links import absolute_url
from portal.people import person_label

if TYPE_CHECKING:
    from django.contrib.auth.models import User

TEST_EVENT = "channel.test"
#: The event name of finding alerts (``outbox.queue_alert``); such notifications belong to no request.
ALERT_EVENT = "finding.alert"
#: The event name of "someone became an approver, a custodian or an administrator"; no request.
ROLE_GRANTED_EVENT = "role.granted"
#: Access reviews (``breakglass.reviews``): a campaign asks a reviewer for decisions; and a reminder.
REVIEW_STARTED_EVENT = "review.started"
REVIEW_REMINDER_EVENT = "review.reminder"
REVIEW_EVENTS = (REVIEW_STARTED_EVENT, REVIEW_REMINDER_EVENT)
#: Drills (``breakglass.drills``): announced to everyone; the matched root sign-in's info alert goes the
#: way critical alerts go (``audience.alert_audience``), so its delivery proves the alarm path.
DRILL_SCHEDULED_EVENT = "drill.scheduled"
DRILL_OBSERVED_EVENT = "drill.observed"
#: Approver reachability (``breakglass.reachability``): confirm with a fresh MFA check.
REACHABILITY_EVENT = "reachability.asked"
SUBJECT_PREFIX = "[Break-glass]"


# --- Events and their audiences -------------------------------------------------------------

# Audience groups, resolved per request by breakglass.notifications.audience.
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
    # An AssumeRoot session started: nothing leaves the safe; the holder presses "Run task".
    "request.task_started": EventSpec(
        people=(CUSTODIANS,),
        account_channels=True,
        summary="AssumeRoot session started",
        headline="{requester} started an AssumeRoot session on {account} ({task}), due to end at {due_at}; "
        "no password or device is handed out.",
        next_step="Nothing to hand over: the portal runs the task when the holder presses Run task.",
    ),
    "request.checked_in": EventSpec(
        people=(CUSTODIANS,),
        account_channels=True,
        summary="returned",
        headline="The root credential of {account} was returned by {requester}.",
        next_step="Custodians: rotate the root password and review the session to close it.",
    ),
    # An AssumeRoot session whose task the portal ran: no password to rotate, a session to review.
    "request.task_ran": EventSpec(
        people=(CUSTODIANS,),
        account_channels=True,
        summary="AssumeRoot task done",
        headline="The portal ran the AssumeRoot task of {requester} on {account} ({task}); no password or "
        "device was handed out.",
        next_step="Custodians or administrators: review the session to close it.",
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
    "request.task_overdue": EventSpec(
        people=(REQUESTER, CUSTODIANS),
        account_channels=True,
        summary="OVERDUE",
        headline="The AssumeRoot session of {requester} on {account} ({task}) was due to end at {due_at} "
        "and its task has not run.",
        next_step="Run the task now if it is still needed, or check in to end the session.",
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
    "request.emergency_acknowledged": EventSpec(
        people=_EVERYONE,
        account_channels=True,
        summary="emergency acknowledged",
        headline="{actor} acknowledged the emergency session of {requester} on the root user of {account}.",
        next_step="Approvers: the approvals of the session are still collected afterwards.",
    ),
    DRILL_SCHEDULED_EVENT: EventSpec(
        people=_EVERYONE,
        account_channels=True,
        global_channels=True,
        include_actor=True,
        summary="DRILL scheduled by {actor}",
        headline=(
            "{actor} scheduled a break-glass drill of {account}: {requester} will check out the root "
            "credential between {starts_at} and {window_ends_at}, sign in as root, and check in."
        ),
        next_step=(
            "This is an exercise, not real use. Expect a 'drill observed' alert after the root sign-in; "
            "if it never comes, the alarm chain is broken and the portal raises a critical finding."
        ),
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


def event_spec(event: str) -> EventSpec:
    """The spec of ``event``; ValueError for an event this module does not know."""
    spec = EVENTS.get(event)
    if spec is None:
        raise ValueError(f"unknown notification event {event!r}")
    return spec


# --- Wording --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wording:
    """One event's words: the subject and plain-text body people read, and the JSON webhook body
    (less ``sent_at``, added at each attempt)."""

    subject: str
    body: str
    payload: dict[str, Any]


def event_wording(*, event: str, request: AccessRequest, actor: User | None, note: str) -> Wording:
    """The words of a request event. Raises ValueError for an unknown event."""
    spec = event_spec(event)
    facts = _facts(request=request, actor=actor, note=note)
    subject = one_line(f"{SUBJECT_PREFIX} {facts['code']} {spec.summary.format(**facts)}: {facts['account']}")
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
    return Wording(subject=subject, body=body, payload=payload)


def alert_wording(*, finding_summary: str, subject: str, finding: dict[str, Any]) -> Wording:
    """The words of a finding alert; ``finding`` (JSON-safe, no secrets) is the webhook's ``finding``."""
    line = one_line(f"{SUBJECT_PREFIX} ALERT {subject}")
    url = str(finding.get("url") or "")
    lines = [finding_summary.strip(), ""]
    if url:
        lines.append(f"Open the finding: {url}")
    lines.append("Triage it in the portal (acknowledge, resolve or mark a false positive) with a note.")
    body = "\n".join(lines) + "\n"
    payload = {
        "event": ALERT_EVENT,
        "finding": finding,
        "request": None,
        "actor": None,
        "note": "",
        "subject": line,
        "text": body,
    }
    return Wording(subject=line, body=body, payload=payload)


def review_wording(*, event: str, campaign: Any, waiting: int) -> Wording:
    """The words asking a reviewer for their ``waiting`` decisions in an access review."""
    if event not in REVIEW_EVENTS:
        raise ValueError(f"unknown review event {event!r}")
    deadline = f"{campaign.deadline.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    tag = "REVIEW" if event == REVIEW_STARTED_EVENT else "REVIEW REMINDER"
    subject = one_line(f"{SUBJECT_PREFIX} {tag} {waiting} access decision(s) for you by {deadline}")
    body = (
        f"An access review asks you to keep or revoke {waiting} grant(s), approver or custodian "
        f"assignment(s), or to confirm MFA devices in the safe, by {deadline}.\n\n"
        "Undecided grants expire at the deadline and every missing decision becomes a finding.\n\n"
        f"Your review: {absolute_url('breakglass:review_inbox')}\n"
    )
    payload = {
        "event": event,
        "campaign": str(campaign.uuid),
        "deadline": deadline,
        "waiting": waiting,
        "request": None,
        "actor": None,
        "note": "",
        "subject": subject,
        "text": body,
    }
    return Wording(subject=subject, body=body, payload=payload)


def drill_observed_wording(*, request: AccessRequest, signed_in_at: Any, ingest_delay: Any) -> Wording:
    """The info alert of a drill's root sign-in, matched to its check-out: the alarm rang."""
    facts = _facts(request=request, actor=None, note="")
    seconds = int(ingest_delay.total_seconds())
    subject = one_line(f"{SUBJECT_PREFIX} DRILL observed {facts['code']}: {facts['account']}")
    body = (
        f"The root sign-in of the break-glass drill {facts['code']} on {facts['account']} at "
        f"{_local(signed_in_at)} arrived from CloudTrail {seconds} s later and was matched to the "
        "drill's check-out. This is an exercise, not real use: no action is needed.\n\n"
        f"The drill: {facts['link']}\n"
    )
    payload = _payload(
        event=DRILL_OBSERVED_EVENT, request=request, actor=None, note="", subject=subject, text=body
    )
    payload["drill"] = {
        "signed_in_at": signed_in_at.astimezone(UTC).isoformat(),
        "ingest_delay_seconds": seconds,
    }
    return Wording(subject=subject, body=body, payload=payload)


def reachability_wording(*, check: Any) -> Wording:
    """The words asking an approver to confirm they can be reached, with the link to do it."""
    deadline = f"{check.deadline.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    subject = one_line(f"{SUBJECT_PREFIX} CONFIRM you can approve break-glass requests by {deadline}")
    body = (
        "You approve break-glass requests for the root user of AWS accounts. Confirm that you can still "
        "be reached and that your second factor works: sign in, open the link and confirm, "
        f"by {deadline}.\n\n"
        "Without your confirmation you are reported as an unreachable approver, and an account whose "
        "quorum the reachable approvers cannot meet is a high finding.\n\n"
        f"Confirm: {absolute_url('breakglass:reachability')}\n"
    )
    payload = {
        "event": REACHABILITY_EVENT,
        "check": str(check.uuid),
        "deadline": deadline,
        "request": None,
        "actor": None,
        "note": "",
        "subject": subject,
        "text": body,
    }
    return Wording(subject=subject, body=body, payload=payload)


def role_granted_wording(*, person: Any, roles: list[str], actor: Any, source: str) -> Wording:
    """The words telling the administrators that ``person`` gained privileged ``roles``."""
    who = person_label(person)
    by = person_label(actor, nobody=source)
    subject = one_line(f"{SUBJECT_PREFIX} ROLE {who} is now {', '.join(roles)}")
    body = (
        f"{who} was given the role(s) {', '.join(roles)} by {by} ({source}).\n\n"
        "If you did not expect this, check it in the audit ledger and take the role away.\n"
    )
    payload = {
        "event": ROLE_GRANTED_EVENT,
        "person": person.get_username(),
        "roles": roles,
        "source": source,
        "request": None,
        "actor": actor.get_username() if actor is not None and actor.is_authenticated else None,
        "note": "",
        "subject": subject,
        "text": body,
    }
    return Wording(subject=subject, body=body, payload=payload)


def channel_test_wording(*, channel: NotificationChannel, actor: User) -> Wording:
    """The words of a test message an administrator sends to a channel."""
    subject = one_line(f"{SUBJECT_PREFIX} Test message to channel {channel.name}")
    note = "This is a test message from the root break-glass portal. No action is needed."
    body = render_to_string(
        "breakglass/email/channel_test.txt",
        {
            "channel": channel,
            "actor": person_label(actor),
            "note": note,
            "channels_url": absolute_url("channels:channel_list"),
        },
    )
    payload = _payload(event=TEST_EVENT, request=None, actor=actor, note=note, subject=subject, text=body)
    return Wording(subject=subject, body=body, payload=payload)


def channel_body(channel: NotificationChannel, wording: Wording) -> str:
    """What a channel's notification row stores: the text, or for a JSON webhook the payload."""
    # A JSON webhook sends the payload as it was when the event happened (status, note), so the
    # row keeps that payload; ``sent_at`` is added at each attempt.
    if channel.kind == ChannelKind.WEBHOOK:
        return json.dumps(wording.payload, sort_keys=True, ensure_ascii=False)
    return wording.body


def request_link(request: AccessRequest) -> str:
    """The request's page, absolute, for people reading the message outside the portal."""
    return absolute_url("breakglass:request_detail", kwargs={"uuid": request.uuid})


_WHITESPACE = re.compile(r"\s+")


def one_line(text: str, *, limit: int = 290) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    # Mail headers cannot hold newlines (Django refuses them as header injection), and an account
    # name or a comment could bring one in.
    line = _WHITESPACE.sub(" ", text).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _local(moment: Any) -> str:
    if moment is None:
        return "-"
    return str(timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z"))


def _facts(*, request: AccessRequest, actor: User | None, note: str) -> dict[str, Any]:
    account = request.account
    return {
        "code": request.code,
        "account": f"{account.name} ({account.account_id})",
        "account_name": account.name,
        "account_id": account.account_id,
        "task": request.task_title,
        "requester": person_label(request.requester),
        "actor": person_label(actor),
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


__all__ = [
    "ALERT_EVENT",
    "DRILL_OBSERVED_EVENT",
    "DRILL_SCHEDULED_EVENT",
    "EVENTS",
    "REACHABILITY_EVENT",
    "REVIEW_EVENTS",
    "REVIEW_REMINDER_EVENT",
    "REVIEW_STARTED_EVENT",
    "ROLE_GRANTED_EVENT",
    "SUBJECT_PREFIX",
    "TEST_EVENT",
    "EventSpec",
    "Wording",
    "alert_wording",
    "channel_body",
    "channel_test_wording",
    "event_spec",
    "event_wording",
    "one_line",
    "request_link",
    "review_wording",
    "role_granted_wording",
]
