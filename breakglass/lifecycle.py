"""The break-glass state machine: every change of an access request's status happens here.

Each transition service locks the request (``select_for_update``) inside a transaction, checks the
one map of allowed transitions, writes a ``Transition`` row and a ledger entry, and queues its
notifications (sent only after commit). Nothing else assigns ``AccessRequest.status``.

```
PENDING --approve x quorum--> APPROVED --check out--> ACTIVE --check in--> RETURNED
RETURNED --rotation+review--> CLOSED
PENDING --deny--> DENIED      PENDING|APPROVED --cancel--> CANCELLED      PENDING|APPROVED --time--> EXPIRED
emergency: PENDING --self-authorise--> ACTIVE (everyone notified; approvals collected afterwards)
PENDING|APPROVED|ACTIVE --revoke (administrator)--> REVOKED
```
"""

from __future__ import annotations

import secrets as random
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from breakglass import rules
from breakglass import secrets as sealed
from breakglass.choices import CredentialStorage, CustodyState, Decision, GovernanceMode, RequestStatus
from breakglass.models import (
    AccessRequest,
    Approval,
    AwsAccount,
    MfaDevice,
    RootCredential,
    SecretReveal,
    Transition,
)
from breakglass.notifications import outbox
from breakglass.root_tasks import BY_CODE as ROOT_TASKS
from breakglass.signals import request_status_changed
from ledger import services as ledger
from portal.errors import DomainError

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


def _lock(request: AccessRequest) -> AccessRequest:
    return (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("account", "requester")
        .get(pk=request.pk)
    )


def _transition(
    request: AccessRequest, to: str, *, actor: User | None, note: str = "", data: dict[str, Any] | None = None
) -> None:
    """Move a locked request to ``to``, with its transition row and ledger entry."""
    current = request.status
    if to not in TRANSITIONS[current]:
        raise DomainError(
            f"{request.code} is {S(current).label.lower()}; it cannot become {S(to).label.lower()}."
        )
    request.status = to
    request.save()
    transition = Transition.objects.create(
        request=request, from_status=current, to_status=to, actor=actor, note=note
    )
    request_status_changed.send(
        sender=AccessRequest, request=request, from_status=current, to_status=to, transition=transition
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


def _refuse(refusal: str | None) -> None:
    """Raise the refusal of a rule from :mod:`breakglass.rules`, asked on the locked row."""
    if refusal is not None:
        raise DomainError(refusal)


def _new_code() -> str:
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
) -> AccessRequest:
    """A person asks to use ``account``'s root for one task; its approvers are notified."""
    errors: dict[str, str] = {}
    refusal = rules.refusal_to_request(requester, account)
    if refusal is not None:
        raise DomainError({"account": refusal})
    task = ROOT_TASKS.get(root_task)
    if task is None:
        errors["root_task"] = "Choose one of the listed root tasks, or 'Other' with an explanation."
    elif task.code == "other" and len(other_task.strip()) < 10:
        errors["other_task"] = "Say which root task this is (at least 10 characters)."
    elif account.governance_mode == GovernanceMode.CENTRALISED and not task.is_assume_root:
        errors["root_task"] = (
            f"{account} uses centralised root access and has no root password: choose an AssumeRoot task."
        )
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
    with transaction.atomic():
        request = AccessRequest.objects.create(
            code=_new_code(),
            requester=requester,
            account=account,
            root_task=root_task,
            other_task=other_task.strip(),
            justification=justification.strip(),
            ticket_reference=ticket_reference.strip(),
            starts_at=max(starts_at, now),
            duration_minutes=duration_minutes,
        )
        Transition.objects.create(request=request, from_status="", to_status=S.PENDING, actor=requester)
        ledger.record(
            actor=requester,
            action="access_request.created",
            target=request,
            data={
                "code": request.code,
                "account_id": account.account_id,
                "root_task": root_task,
                "ticket_reference": request.ticket_reference,
                "starts_at": request.starts_at.isoformat(),
                "duration_minutes": duration_minutes,
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
    if not comment.strip():
        raise DomainError({"comment": "Say why you decide so; the comment goes into the evidence."})
    with transaction.atomic():
        locked = _lock(request)
        _refuse(rules.refusal_to_decide(approver, locked))
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
            _transition(locked, S.DENIED, actor=approver, note=comment.strip())
            outbox.queue(event="request.denied", request=locked, actor=approver)
        elif approvals >= locked.account.approval_quorum:
            locked.approved_at = timezone.now()
            _transition(locked, S.APPROVED, actor=approver, data={"approvals": approvals})
            outbox.queue(event="request.approved", request=locked, actor=approver)
    return approval


def access_request_cancel(*, request: AccessRequest, requester: User) -> AccessRequest:
    with transaction.atomic():
        locked = _lock(request)
        _refuse(rules.refusal_to_cancel(requester, locked))
        _transition(locked, S.CANCELLED, actor=requester)
        outbox.queue(event="request.cancelled", request=locked, actor=requester)
    return locked


def access_request_revoke(*, request: AccessRequest, administrator: User, reason: str) -> AccessRequest:
    """An administrator ends any open request. Revoking an active session marks the password for
    rotation: it was seen, and its holder may no longer be trusted with it."""
    # Refused before the reason is looked at (a closed status never reopens, so a stale row's
    # refusal stands); asked again below on the locked row.
    _refuse(rules.refusal_to_revoke(administrator, request))
    if not reason.strip():
        raise DomainError({"reason": "Say why the request is revoked."})
    with transaction.atomic():
        locked = _lock(request)
        _refuse(rules.refusal_to_revoke(administrator, locked))
        was_active = locked.status == S.ACTIVE
        if was_active:
            _mark_for_rotation(locked.account)
        _transition(
            locked, S.REVOKED, actor=administrator, note=reason.strip(), data={"was_active": was_active}
        )
        outbox.queue(event="request.revoked", request=locked, actor=administrator, note=reason.strip())
    return locked


# --- Emergency -------------------------------------------------------------------------------


def access_request_self_authorise(*, request: AccessRequest, requester: User, reason: str) -> AccessRequest:
    """Break glass without approvers: a person with an emergency grant activates their own pending
    request. Everyone is told at once; approvals are collected afterwards and the session stays
    marked until they are in. A pending rotation does not block an emergency, but is recorded."""
    if len(reason.strip()) < MIN_JUSTIFICATION:
        raise DomainError(
            {"reason": f"Say why approvers cannot be reached (at least {MIN_JUSTIFICATION} characters)."}
        )
    with transaction.atomic():
        locked = _lock(request)
        _refuse(rules.refusal_to_self_authorise(requester, locked))
        credential = _credential(locked.account)
        rotation_pending = bool(credential and credential.rotation_required)
        now = timezone.now()
        locked.emergency = True
        locked.checked_out_at = now
        locked.due_at = now + timedelta(minutes=locked.duration_minutes)
        try:
            with transaction.atomic():
                _transition(
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
        )
        return access_request_self_authorise(request=created, requester=requester, reason=reason)


# --- Check-out and check-in ------------------------------------------------------------------


def _credential(account: AwsAccount) -> RootCredential | None:
    return RootCredential.objects.select_for_update().filter(account=account).first()


def _mark_for_rotation(account: AwsAccount) -> None:
    credential = _credential(account)
    if credential is not None and credential.storage != CredentialStorage.NONE:
        credential.rotation_required = True
        credential.save(update_fields=["rotation_required", "updated_at"])


def access_request_check_out(*, request: AccessRequest, requester: User) -> AccessRequest:
    """The requester starts the approved session inside its window. The password must have been
    rotated since the last session, and nobody else may hold the account's root at the same time."""
    with transaction.atomic():
        locked = _lock(request)
        _refuse(rules.refusal_to_check_out(requester, locked))
        now = timezone.now()
        if now < locked.starts_at - START_SLACK:
            raise DomainError(f"The approved window opens at {locked.starts_at:%Y-%m-%d %H:%M} UTC.")
        if now > locked.window_ends_at:
            raise DomainError("The approved window has passed; make a new request.")
        credential = _credential(locked.account)
        if credential is not None and credential.rotation_required:
            raise DomainError(
                f"The root password of {locked.account} has not been rotated since its last use; "
                "a custodian must confirm the rotation first."
            )
        locked.checked_out_at = now
        locked.due_at = now + timedelta(minutes=locked.duration_minutes)
        try:
            with transaction.atomic():
                _transition(locked, S.ACTIVE, actor=requester, data={"due_at": locked.due_at.isoformat()})
        except IntegrityError:
            raise DomainError(
                f"Another check-out of {locked.account} is active; it must be returned first."
            ) from None
        outbox.queue(event="request.checked_out", request=locked, actor=requester)
    return locked


def access_request_hand_over(
    *, request: AccessRequest, custodian: User, devices: Iterable[MfaDevice]
) -> AccessRequest:
    """A custodian (never the requester) hands the account's MFA devices to the session's holder."""
    with transaction.atomic():
        locked = _lock(request)
        _refuse(rules.refusal_to_hand_over(custodian, locked))
        wanted = [d.pk for d in devices]
        if not wanted:
            raise DomainError({"devices": "Choose the MFA devices you hand over."})
        locked_devices = list(
            MfaDevice.objects.select_for_update().filter(pk__in=wanted, assignments__account=locked.account)
        )
        if len(locked_devices) != len(set(wanted)):
            raise DomainError({"devices": f"Only devices that protect {locked.account} can be handed over."})
        for device in locked_devices:
            if device.custody_state != CustodyState.IN_SAFE:
                raise DomainError(
                    {"devices": f"{device} is {device.get_custody_state_display().lower()}, not in the safe."}
                )
            device.custody_state = CustodyState.CHECKED_OUT
            device.holder_id = locked.requester_id
            device.save(update_fields=["custody_state", "holder", "updated_at"])
        locked.handed_over_by = custodian
        locked.handed_over_at = timezone.now()
        locked.save()
        locked.devices.add(*locked_devices)
        ledger.record(
            actor=custodian,
            action="access_request.devices_handed_over",
            target=locked,
            data={
                "code": locked.code,
                "devices": sorted(d.serial_number for d in locked_devices),
                "holder": locked.requester.get_username(),
            },
        )
    return locked


def access_request_reveal_password(*, request: AccessRequest, user: User) -> str:
    """The holder of an active check-out reads the root password kept in the portal. Each reveal
    is recorded; the plaintext is returned to the view and goes nowhere else."""
    with transaction.atomic():
        locked = _lock(request)
        _refuse(rules.refusal_to_reveal(user, locked))
        credential = RootCredential.objects.get(account=locked.account)
        from portal.middleware import current_request_id

        SecretReveal.objects.create(request=locked, user=user, http_request_id=current_request_id())
        ledger.record(
            actor=user, action="access_request.password_revealed", target=locked, data={"code": locked.code}
        )
        return sealed.reveal_root_password(credential=credential)


def access_request_check_in(
    *, request: AccessRequest, actor: User, work_done: str, envelope_number: str = ""
) -> AccessRequest:
    """The holder (or a custodian) records the return: devices back in the safe, what was done as
    root, and for a physical password the new envelope seal. The password is now due for rotation."""
    if len(work_done.strip()) < 10:
        raise DomainError({"work_done": "Describe what was done as root (at least 10 characters)."})
    with transaction.atomic():
        locked = _lock(request)
        _refuse(rules.refusal_to_check_in(actor, locked))
        # A revoked session still has to bring its devices back; its status stays revoked.
        returning_revoked = rules.returning_after_revoke(locked)
        credential = _credential(locked.account)
        if (
            credential is not None
            and credential.storage == CredentialStorage.PHYSICAL
            and not envelope_number.strip()
        ):
            raise DomainError({"envelope_number": "Give the number of the new seal on the envelope."})
        returned = list(locked.devices.select_for_update().filter(custody_state=CustodyState.CHECKED_OUT))
        for device in returned:
            device.custody_state = CustodyState.IN_SAFE
            device.holder = None
            device.save(update_fields=["custody_state", "holder", "updated_at"])
        locked.checked_in_at = timezone.now()
        locked.checked_in_by = actor
        locked.work_done = work_done.strip()
        locked.return_envelope_number = envelope_number.strip()
        if credential is not None and credential.storage == CredentialStorage.PHYSICAL:
            credential.envelope_number = envelope_number.strip()
            credential.save(update_fields=["envelope_number", "updated_at"])
        _mark_for_rotation(locked.account)
        data = {
            "devices_returned": sorted(d.serial_number for d in returned),
            "envelope_number": locked.return_envelope_number,
        }
        if returning_revoked:
            locked.save()
            ledger.record(
                actor=actor,
                action="access_request.returned_after_revoke",
                target=locked,
                data={"code": locked.code, **data},
            )
        else:
            _transition(locked, S.RETURNED, actor=actor, note=locked.work_done, data=data)
        outbox.queue(event="request.checked_in", request=locked, actor=actor)
    return locked


def access_request_confirm_rotation(
    *,
    request: AccessRequest,
    actor: User,
    review_note: str,
    new_password: str = "",
    new_envelope_number: str = "",
) -> AccessRequest:
    """A custodian or administrator (not the holder) confirms the password was changed after the
    session and reviews it; the session closes and the account can be checked out again."""
    if len(review_note.strip()) < 10:
        raise DomainError(
            {"review_note": "Write the review: was the work in scope? (at least 10 characters)."}
        )
    with transaction.atomic():
        locked = _lock(request)
        _refuse(rules.refusal_to_confirm_rotation(actor, locked))
        credential = _credential(locked.account)
        rotation: dict[str, Any] = {"storage": credential.storage if credential else "none"}
        if credential is not None and credential.storage == CredentialStorage.PORTAL:
            if len(new_password) < 20:
                raise DomainError({"new_password": "Enter the new root password (at least 20 characters)."})
            sealed.seal_root_password(credential=credential, plaintext=new_password)
            rotation["key_id"] = credential.encryption_key_id
        elif credential is not None and credential.storage == CredentialStorage.PHYSICAL:
            if not new_envelope_number.strip():
                raise DomainError(
                    {"new_envelope_number": "Give the number of the envelope holding the new password."}
                )
            credential.envelope_number = new_envelope_number.strip()
            rotation["envelope_number"] = credential.envelope_number
        if credential is not None:
            credential.rotation_required = False
            credential.last_rotated_at = timezone.now()
            credential.save()
        now = timezone.now()
        locked.rotation_confirmed_at = now
        locked.rotation_confirmed_by = actor
        locked.review_note = review_note.strip()
        locked.closed_at = now
        ledger.record(
            actor=actor,
            action="root_credential.rotated",
            target=locked,
            data={"code": locked.code, **rotation},
        )
        _transition(locked, S.CLOSED, actor=actor, note=locked.review_note)
        outbox.queue(event="request.closed", request=locked, actor=actor)
    return locked


# --- Time ------------------------------------------------------------------------------------


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
            locked = _lock(candidate)
            if locked.status not in (S.PENDING, S.APPROVED):
                continue
            _transition(
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
            locked = _lock(candidate)
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
            outbox.queue(event="request.overdue", request=locked, note=f"{minutes} minutes overdue")
            sent += 1
    return sent
