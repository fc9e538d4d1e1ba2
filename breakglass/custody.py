"""Custody of the root credential during a session: check-out, MFA hand-over, password reveal, check-in
and the rotation confirmation that closes the session.

Each service follows the lifecycle's rule (see :mod:`breakglass.lifecycle`): it locks the request,
asks :mod:`breakglass.rules` on the locked row, and changes the status only through
``lifecycle.transition``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from breakglass import rules
from breakglass import secrets as sealed
from breakglass.choices import CredentialStorage, CustodyState, RequestStatus
from breakglass.lifecycle import (
    START_SLACK,
    lock_request,
    locked_credential,
    mark_for_rotation,
    refuse,
    transition,
)
from breakglass.models import AccessRequest, DeviceReturn, MfaDevice, RootCredential, SecretReveal
from breakglass.notifications import outbox
from ledger import services as ledger
from portal.errors import DomainError
from portal.middleware import current_request_id
from portal.validators import check_plain_names, check_request_texts

if TYPE_CHECKING:
    from django.contrib.auth.models import User

S = RequestStatus


def access_request_check_out(*, request: AccessRequest, requester: User) -> AccessRequest:
    """The requester starts the approved session inside its window. The password must have been
    rotated since the last session, and nobody else may hold the account's root at the same time."""
    with transaction.atomic():
        locked = lock_request(request)
        refuse(rules.refusal_to_check_out(requester, locked))
        now = timezone.now()
        if now < locked.starts_at - START_SLACK:
            raise DomainError(f"The approved window opens at {locked.starts_at:%Y-%m-%d %H:%M} UTC.")
        if now > locked.window_ends_at:
            raise DomainError("The approved window has passed; make a new request.")
        # An AssumeRoot task never touches the password, so a rotation still pending does not stop it.
        credential = None if locked.is_assume_root else locked_credential(locked.account)
        if credential is not None and credential.rotation_required:
            raise DomainError(
                f"The root password of {locked.account} has not been rotated since its last use; "
                "a custodian must confirm the rotation first."
            )
        locked.checked_out_at = now
        locked.due_at = now + timedelta(minutes=locked.duration_minutes)
        try:
            with transaction.atomic():
                transition(locked, S.ACTIVE, actor=requester, data={"due_at": locked.due_at.isoformat()})
        except IntegrityError:
            raise DomainError(
                f"Another check-out of {locked.account} is active; it must be returned first."
            ) from None
        event = "request.task_started" if locked.is_assume_root else "request.checked_out"
        outbox.queue(event=event, request=locked, actor=requester)
    return locked


def access_request_hand_over(
    *, request: AccessRequest, custodian: User, devices: Iterable[MfaDevice]
) -> AccessRequest:
    """A custodian (never the requester) hands the account's MFA devices to the session's holder."""
    with transaction.atomic():
        locked = lock_request(request)
        refuse(rules.refusal_to_hand_over(custodian, locked))
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
        locked = lock_request(request)
        refuse(rules.refusal_to_reveal(user, locked))
        credential = RootCredential.objects.get(account=locked.account)
        SecretReveal.objects.create(request=locked, user=user, http_request_id=current_request_id())
        ledger.record(
            actor=user, action="access_request.password_revealed", target=locked, data={"code": locked.code}
        )
        return sealed.reveal_root_password(credential=credential)


def _is_stored_password(credential: RootCredential, candidate: str) -> bool:
    """Whether ``candidate`` is the password sealed on ``credential`` (compared in constant time)."""
    if credential.ciphertext is None:
        return False
    stored = sealed.reveal_root_password(credential=credential)
    return hmac.compare_digest(stored.encode("utf-8"), candidate.encode("utf-8"))


def access_request_check_in(
    *, request: AccessRequest, actor: User, work_done: str, envelope_number: str = ""
) -> AccessRequest:
    """The holder (or a custodian) records the return: devices back in the safe, what was done as
    root, and for a physical password the new envelope seal. The password is now due for rotation."""
    check_request_texts(work_done=work_done)
    check_plain_names({"envelope_number": envelope_number})
    if len(work_done.strip()) < 10:
        raise DomainError({"work_done": "Describe what was done as root (at least 10 characters)."})
    with transaction.atomic():
        locked = lock_request(request)
        refuse(rules.refusal_to_check_in(actor, locked))
        # A revoked session still has to bring its devices back; its status stays revoked.
        returning_revoked = rules.returning_after_revoke(locked)
        # An AssumeRoot session took no envelope out of the safe.
        credential = None if locked.is_assume_root else locked_credential(locked.account)
        if (
            credential is not None
            and credential.storage == CredentialStorage.PHYSICAL
            and not envelope_number.strip()
        ):
            raise DomainError({"envelope_number": "Give the number of the new seal on the envelope."})
        returned = list(locked.devices.select_for_update().filter(custody_state=CustodyState.CHECKED_OUT))
        now = timezone.now()
        for device in returned:
            # Given back, not yet in the safe: a custodian confirms each device (device_return_confirm).
            device.custody_state = CustodyState.RETURNING
            device.holder = None
            device.save(update_fields=["custody_state", "holder", "updated_at"])
        DeviceReturn.objects.bulk_create(
            DeviceReturn(request=locked, device=device, returned_at=now, returned_by=actor)
            for device in returned
        )
        locked.checked_in_at = now
        locked.checked_in_by = actor
        locked.work_done = work_done.strip()
        locked.return_envelope_number = envelope_number.strip()
        if credential is not None and credential.storage == CredentialStorage.PHYSICAL:
            credential.envelope_number = envelope_number.strip()
            credential.save(update_fields=["envelope_number", "updated_at"])
        if not locked.is_assume_root:
            # An AssumeRoot session never saw the password: nothing to rotate.
            mark_for_rotation(locked.account)
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
            transition(locked, S.RETURNED, actor=actor, note=locked.work_done, data=data)
        outbox.queue(event="request.checked_in", request=locked, actor=actor)
    return locked


def device_return_confirm(*, request: AccessRequest, custodian: User, device: MfaDevice) -> DeviceReturn:
    """A custodian confirms one device given back at check-in is in the safe again; until then it
    cannot be handed over. A ledger entry, and a line on the request's timeline (the return row)."""
    with transaction.atomic():
        locked = lock_request(request)
        refuse(rules.refusal_to_confirm_device_return(custodian, locked))
        waiting = (
            DeviceReturn.objects.select_for_update()
            .filter(request=locked, device_id=device.pk, confirmed_at__isnull=True)
            .first()
        )
        if waiting is None:
            raise DomainError(f"{device.label} is not waiting for a return confirmation on {locked.code}.")
        locked_device = MfaDevice.objects.select_for_update().get(pk=device.pk)
        now = timezone.now()
        waiting.confirmed_at = now
        waiting.confirmed_by = custodian
        waiting.save(update_fields=["confirmed_at", "confirmed_by"])
        # A device an administrator marked lost or retired meanwhile keeps that state.
        if locked_device.custody_state == CustodyState.RETURNING:
            locked_device.custody_state = CustodyState.IN_SAFE
            locked_device.save(update_fields=["custody_state", "updated_at"])
        ledger.record(
            actor=custodian,
            action="mfa_device.return_confirmed",
            target=locked,
            data={
                "code": locked.code,
                "device": locked_device.serial_number,
                "returned_at": waiting.returned_at.isoformat(),
                "custody_state": locked_device.custody_state,
            },
        )
    return waiting


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
    check_request_texts(review_note=review_note)
    check_plain_names({"new_envelope_number": new_envelope_number})
    if len(review_note.strip()) < 10:
        raise DomainError(
            {"review_note": "Write the review: was the work in scope? (at least 10 characters)."}
        )
    with transaction.atomic():
        locked = lock_request(request)
        refuse(rules.refusal_to_confirm_rotation(actor, locked))
        # An AssumeRoot session is reviewed only: the password stayed sealed, so it is not rotated
        # (and a rotation another session left pending stays pending).
        credential = None if locked.is_assume_root else locked_credential(locked.account)
        rotation: dict[str, Any] = {"storage": credential.storage if credential else "none"}
        if locked.is_assume_root:
            rotation["assume_root"] = True
        if credential is not None and credential.storage == CredentialStorage.PORTAL:
            if len(new_password) < 20:
                raise DomainError({"new_password": "Enter the new root password (at least 20 characters)."})
            if _is_stored_password(credential, new_password):
                # Neither password is logged or echoed: the refusal says only that they match.
                raise DomainError(
                    {
                        "new_password": (
                            "This is the password already stored; change it in AWS and enter the new one."
                        )
                    }
                )
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
        transition(locked, S.CLOSED, actor=actor, note=locked.review_note)
        outbox.queue(event="request.closed", request=locked, actor=actor)
    return locked
