"""The break-glass state machine: the one map of allowed transitions and the one function that
changes an access request's status, with the services that file, decide, cancel, revoke and
self-authorise requests.

Each transition service locks the request (``lock_request``, ``select_for_update``) inside a
transaction, asks :mod:`breakglass.rules` on the locked row, changes the status only through
``transition`` (which checks ``TRANSITIONS``, writes a ``Transition`` row and a ledger entry and
sends ``request_status_changed``), and queues its notifications (sent only after commit). Nothing
else assigns ``AccessRequest.status``. The other transition services live beside this module, by
job: :mod:`breakglass.custody` (check-out, hand-over, reveal, check-in, rotation confirmation) and
:mod:`breakglass.sweeps` (expiry, overdue reminders).

```
PENDING --approve x quorum--> APPROVED --check out--> ACTIVE --check in--> RETURNED
RETURNED --rotation+review--> CLOSED
PENDING --deny--> DENIED      PENDING|APPROVED --cancel--> CANCELLED      PENDING|APPROVED --time--> EXPIRED
emergency: PENDING --self-authorise--> ACTIVE (everyone notified; a second person acknowledges within
           PORTAL_EMERGENCY_ACK_MINUTES; approvals collected afterwards)
PENDING|APPROVED|ACTIVE --revoke (administrator)--> REVOKED
```
"""

from __future__ import annotations

import secrets as random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from breakglass import rules, task_targets, tickets
from breakglass.choices import CredentialStorage, Decision, GovernanceMode, RequestStatus
from breakglass.models import (
    AccessRequest,
    Approval,
    AwsAccount,
    RootCredential,
    Transition,
)
from breakglass.notifications import outbox
from breakglass.root_tasks import BY_CODE as ROOT_TASKS
from breakglass.root_tasks import DRILL_TASK
from breakglass.signals import request_status_changed
from ledger import services as ledger
from portal.errors import DomainError
from portal.validators import check_request_texts

if TYPE_CHECKING:
    from django.contrib.auth.models import User

S = RequestStatus

#: The only status changes there are. Anything else is refused with the reason.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.APPROVED, S.DENIED, S.CANCELLED, S.EXPIRED, S.ACTIVE, S.REVOKED}),
    S.APPROVED: frozenset({S.ACTIVE, S.CANCELLED, S.EXPIRED, S.REVOKED}),
    S.ACTIVE: frozenset({S.RETURNED, S.REVOKED}),
    S.RETURNED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.DENIED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REVOKED: frozenset(),
}

MIN_JUSTIFICATION = 20
# A request may start a little in the past (form filled slowly) but not be back-dated.
START_SLACK = timedelta(minutes=10)
FURTHEST_START = timedelta(days=30)


# --- Shared by the transition services (here, in custody and in sweeps); views never call these ---


def lock_request(request: AccessRequest) -> AccessRequest:
    """The request again, locked for the rest of the transaction, with its account and requester."""
    return (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("account", "requester")
        .get(pk=request.pk)
    )


def transition(
    request: AccessRequest, to: str, *, actor: User | None, note: str = "", data: dict[str, Any] | None = None
) -> None:
    """Move a locked request to ``to``, with its transition row and ledger entry.

    The one place that assigns ``AccessRequest.status``; it sends ``request_status_changed``.
    """
    current = request.status
    if to not in TRANSITIONS[current]:
        raise DomainError(
            f"{request.code} is {S(current).label.lower()}; it cannot become {S(to).label.lower()}."
        )
    request.status = to
    request.save()
    row = Transition.objects.create(
        request=request, from_status=current, to_status=to, actor=actor, note=note
    )
    request_status_changed.send(
        sender=AccessRequest, request=request, from_status=current, to_status=to, transition=row
    )
    ledger.record(
        actor=actor,
        action=f"access_request.{to}",
        target=request,
        data={
            "code": request.code,
            "account_id": request.account.account_id,
            "from": current,
            "to": to,
            "note": note,
            **(data or {}),
        },
    )


def refuse(refusal: str | None) -> None:
    """Raise the refusal of a rule from :mod:`breakglass.rules`, asked on the locked row."""
    if refusal is not None:
        raise DomainError(refusal)


def locked_credential(account: AwsAccount) -> RootCredential | None:
    """The account's root credential, locked, or None when the portal keeps none."""
    return RootCredential.objects.select_for_update().filter(account=account).first()


def mark_for_rotation(account: AwsAccount) -> None:
    """The root password was seen (or may have been): it must be changed before the next check-out."""
    credential = locked_credential(account)
    if credential is not None and credential.storage != CredentialStorage.NONE:
        credential.rotation_required = True
        credential.save(update_fields=["rotation_required", "updated_at"])


def new_request_code() -> str:
    return f"BG-{timezone.now():%y%m%d}-{random.token_hex(3).upper()}"


# --- Request ---------------------------------------------------------------------------------


def access_request_create(
    *,
    requester: User,
    account: AwsAccount,
    root_task: str,
    justification: str,
    starts_at: datetime,
    duration_minutes: int,
    ticket_reference: str = "",
    other_task: str = "",
    bucket_name: str = "",
    queue_url: str = "",
    emergency: bool = False,
) -> AccessRequest:
    """A person asks to use ``account``'s root for one task; its approvers are notified.

    An AssumeRoot task needs an account AssumeRoot reaches (``rules.refusal_of_assume_root``), and the
    unlock tasks the one bucket (``bucket_name``) or queue (``queue_url``) approvers approve.

    ``emergency``: filed to break glass at once, so a ticket system that does not answer does not
    stop it (``tickets.refusal_of_ticket``); the ledger says the ticket was not checked."""
    check_request_texts(justification=justification, other_task=other_task, ticket_reference=ticket_reference)
    errors: dict[str, str] = {}
    refusal = rules.refusal_to_request(requester, account)
    if refusal is not None:
        raise DomainError({"account": refusal})
    duplicate = rules.open_duplicate(requester, account)
    if duplicate is not None:
        raise DomainError({"account": rules.refusal_of_duplicate(duplicate)})
    task = ROOT_TASKS.get(root_task)
    if task is None or task.code == DRILL_TASK.code:
        errors["root_task"] = "Choose one of the listed root tasks, or 'Other' with an explanation."
    elif task.code == "other" and len(other_task.strip()) < 10:
        errors["other_task"] = "Say which root task this is (at least 10 characters)."
    elif account.governance_mode == GovernanceMode.CENTRALISED and not task.is_assume_root:
        errors["root_task"] = (
            f"{account} uses centralised root access and has no root password: choose an AssumeRoot task."
        )
    elif task.is_assume_root and (assume_root_refusal := rules.refusal_of_assume_root(account)):
        errors["root_task"] = assume_root_refusal
    bucket_name, queue_url = bucket_name.strip(), queue_url.strip()
    if root_task == task_targets.BUCKET_TASK:
        if problem := task_targets.bucket_name_problem(bucket_name):
            errors["bucket_name"] = problem
    else:
        bucket_name = ""
    if root_task == task_targets.QUEUE_TASK:
        if problem := task_targets.queue_url_problem(queue_url, account.account_id):
            errors["queue_url"] = problem
    else:
        queue_url = ""
    if len(" ".join(justification.split())) < MIN_JUSTIFICATION:
        errors["justification"] = f"Explain why root is needed in at least {MIN_JUSTIFICATION} characters."
    if account.ticket_required and not ticket_reference.strip():
        errors["ticket_reference"] = f"{account} requires a ticket reference (change or incident number)."
    if duration_minutes < 1:
        errors["duration_minutes"] = "The duration must be at least one minute."
    elif duration_minutes > account.max_session_minutes:
        errors["duration_minutes"] = f"{account} allows at most {account.max_session_minutes} minutes."
    now = timezone.now()
    if starts_at < now - START_SLACK:
        errors["starts_at"] = "The start cannot be in the past."
    elif starts_at > now + FURTHEST_START:
        errors["starts_at"] = "The start must be within the next 30 days."
    if errors:
        raise DomainError(errors)
    ticket_refusal, ticket_check = tickets.refusal_of_ticket(ticket_reference, emergency=emergency)
    if ticket_refusal is not None:
        raise DomainError({"ticket_reference": ticket_refusal})
    with transaction.atomic():
        try:
            with transaction.atomic():
                request = AccessRequest.objects.create(
                    code=new_request_code(),
                    requester=requester,
                    account=account,
                    root_task=root_task,
                    other_task=other_task.strip(),
                    task_bucket_name=bucket_name,
                    task_queue_url=queue_url,
                    justification=justification.strip(),
                    ticket_reference=ticket_reference.strip(),
                    starts_at=max(starts_at, now),
                    duration_minutes=duration_minutes,
                )
        except IntegrityError:
            # Two submits at once: the database's one-open-request constraint let one through.
            raced = rules.open_duplicate(requester, account)
            if raced is None:
                raise
            raise DomainError({"account": rules.refusal_of_duplicate(raced)}) from None
        Transition.objects.create(request=request, from_status="", to_status=S.PENDING, actor=requester)
        ledger.record(
            actor=requester,
            action="access_request.created",
            target=request,
            data={
                "code": request.code,
                "account_id": account.account_id,
                "root_task": root_task,
                **({"bucket_name": bucket_name} if bucket_name else {}),
                **({"queue_url": queue_url} if queue_url else {}),
                "ticket_reference": request.ticket_reference,
                "starts_at": request.starts_at.isoformat(),
                "duration_minutes": duration_minutes,
                **({"ticket_check": ticket_check.for_ledger()} if ticket_check else {}),
            },
        )
        outbox.queue(event="request.created", request=request, actor=requester)
    return request


def access_request_decide(*, request: AccessRequest, approver: User, decision: str, comment: str) -> Approval:
    """One approver approves or denies. Quorum of distinct approvals approves; the first denial denies.

    On an emergency session (already active) the decisions are the approvals collected afterwards.
    """
    if decision not in Decision.values:
        raise DomainError("Choose approve or deny.")
    check_request_texts(comment=comment)
    if not comment.strip():
        raise DomainError({"comment": "Say why you decide so; the comment goes into the evidence."})
    with transaction.atomic():
        locked = lock_request(request)
        refuse(rules.refusal_to_decide(approver, locked))
        collecting_afterwards = rules.collecting_approvals_afterwards(locked)
        try:
            with transaction.atomic():
                approval = Approval.objects.create(
                    request=locked,
                    approver=approver,
                    requester=locked.requester,
                    decision=decision,
                    comment=comment.strip(),
                )
        except IntegrityError:
            raise DomainError("You have already decided on this request.") from None
        ledger.record(
            actor=approver,
            action="access_request.decision",
            target=locked,
            data={"code": locked.code, "decision": decision, "comment": approval.comment},
        )
        outbox.queue(event="request.decision", request=locked, actor=approver, note=f"{decision}: {comment}")
        approvals = locked.approvals.filter(decision=Decision.APPROVE).count()
        if collecting_afterwards:
            if decision == Decision.APPROVE and approvals >= locked.account.approval_quorum:
                locked.emergency_approved_at = timezone.now()
                locked.save()
                ledger.record(
                    actor=approver,
                    action="access_request.emergency_approved",
                    target=locked,
                    data={"code": locked.code, "approvals": approvals},
                )
        elif decision == Decision.DENY:
            transition(locked, S.DENIED, actor=approver, note=comment.strip())
            outbox.queue(event="request.denied", request=locked, actor=approver)
        elif approvals >= locked.account.approval_quorum:
            locked.approved_at = timezone.now()
            transition(locked, S.APPROVED, actor=approver, data={"approvals": approvals})
            outbox.queue(event="request.approved", request=locked, actor=approver)
    return approval


def access_request_cancel(*, request: AccessRequest, requester: User) -> AccessRequest:
    with transaction.atomic():
        locked = lock_request(request)
        refuse(rules.refusal_to_cancel(requester, locked))
        transition(locked, S.CANCELLED, actor=requester)
        outbox.queue(event="request.cancelled", request=locked, actor=requester)
    return locked


def access_request_revoke(*, request: AccessRequest, administrator: User, reason: str) -> AccessRequest:
    """An administrator ends any open request. Revoking an active session marks the password for
    rotation: it was seen, and its holder may no longer be trusted with it."""
    # Refused before the reason is looked at (a closed status never reopens, so a stale row's
    # refusal stands); asked again below on the locked row.
    refuse(rules.refusal_to_revoke(administrator, request))
    check_request_texts(reason=reason)
    if not reason.strip():
        raise DomainError({"reason": "Say why the request is revoked."})
    with transaction.atomic():
        locked = lock_request(request)
        refuse(rules.refusal_to_revoke(administrator, locked))
        was_active = locked.status == S.ACTIVE
        if was_active and not locked.is_assume_root:
            # An AssumeRoot session never saw the password.
            mark_for_rotation(locked.account)
        transition(
            locked, S.REVOKED, actor=administrator, note=reason.strip(), data={"was_active": was_active}
        )
        outbox.queue(event="request.revoked", request=locked, actor=administrator, note=reason.strip())
    return locked


# --- Emergency -------------------------------------------------------------------------------


def access_request_self_authorise(*, request: AccessRequest, requester: User, reason: str) -> AccessRequest:
    """Break glass without approvers: a person with an emergency grant activates their own pending
    request. Everyone is told at once; approvals are collected afterwards and the session stays
    marked until they are in. A pending rotation does not block an emergency, but is recorded."""
    check_request_texts(reason=reason)
    if len(reason.strip()) < MIN_JUSTIFICATION:
        raise DomainError(
            {"reason": f"Say why approvers cannot be reached (at least {MIN_JUSTIFICATION} characters)."}
        )
    with transaction.atomic():
        locked = lock_request(request)
        refuse(rules.refusal_to_self_authorise(requester, locked))
        credential = locked_credential(locked.account)
        rotation_pending = bool(credential and credential.rotation_required)
        now = timezone.now()
        locked.emergency = True
        locked.checked_out_at = now
        locked.due_at = now + timedelta(minutes=locked.duration_minutes)
        try:
            with transaction.atomic():
                transition(
                    locked,
                    S.ACTIVE,
                    actor=requester,
                    note=reason.strip(),
                    data={"emergency": True, "rotation_pending_bypassed": rotation_pending},
                )
        except IntegrityError:
            raise DomainError(
                f"Another check-out of {locked.account} is active; it must be returned first."
            ) from None
        outbox.queue(event="request.emergency", request=locked, actor=requester, note=reason.strip())
    return locked


def access_request_acknowledge(*, request: AccessRequest, actor: User, note: str) -> AccessRequest:
    """A second person (an approver or custodian of the account) acknowledges a self-authorised
    emergency session: they know of it and are looking. Not an approval (those are collected
    afterwards through ``access_request_decide``); without it within
    ``PORTAL_EMERGENCY_ACK_MINUTES`` reconciliation raises ``emergency_unacknowledged``."""
    check_request_texts(note=note)
    with transaction.atomic():
        locked = lock_request(request)
        refuse(rules.refusal_to_acknowledge(actor, locked))
        now = timezone.now()
        locked.emergency_acknowledged_at = now
        locked.emergency_acknowledged_by = actor
        locked.save()
        late = locked.checked_out_at is not None and now > locked.checked_out_at + timedelta(
            minutes=settings.PORTAL_EMERGENCY_ACK_MINUTES
        )
        ledger.record(
            actor=actor,
            action="access_request.emergency_acknowledged",
            target=locked,
            data={"code": locked.code, "note": note.strip(), "late": late},
        )
        outbox.queue(event="request.emergency_acknowledged", request=locked, actor=actor, note=note.strip())
    return locked


def access_request_create_emergency(
    *,
    requester: User,
    account: AwsAccount,
    reason: str,
    root_task: str,
    justification: str,
    starts_at: datetime,
    duration_minutes: int,
    ticket_reference: str = "",
    other_task: str = "",
    bucket_name: str = "",
    queue_url: str = "",
) -> AccessRequest:
    """Break glass in one step: file the request and self-authorise it, or do neither.

    One transaction around both services, so a refused self-authorisation (no emergency grant,
    another session active, a too-short reason) leaves no pending request behind and sends
    nothing: notifications are queued for after the commit. The services notify everyone.
    """
    with transaction.atomic():
        created = access_request_create(
            requester=requester,
            account=account,
            root_task=root_task,
            justification=justification,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            ticket_reference=ticket_reference,
            other_task=other_task,
            bucket_name=bucket_name,
            queue_url=queue_url,
            emergency=True,
        )
        return access_request_self_authorise(request=created, requester=requester, reason=reason)
