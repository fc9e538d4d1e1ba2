"""Every write of the inventory. Each service checks the domain's rules, writes, and records a
ledger entry in the same transaction (if the ledger cannot be written, the change is undone).

Services trust nothing from views: they re-check the rules that the database cannot express.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from breakglass import secrets
from breakglass.choices import CredentialStorage, CustodyState, GovernanceMode, MfaDeviceKind
from breakglass.models import (
    AwsAccount,
    Grant,
    MfaDevice,
    MfaDeviceAssignment,
    ReviewItem,
    RootCredential,
)
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError
from portal.policy import Role
from portal.validators import check_plain_names

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ACCOUNT_FIELDS = (
    "account_id",
    "name",
    "environment",
    "root_email",
    "governance_mode",
    "approval_quorum",
    "max_session_minutes",
    "ticket_required",
    "separate_duties",
)


def _require_admin(actor: User) -> None:
    if not policy.may_manage_inventory(actor):
        raise DomainError("Only a portal administrator with MFA may change the inventory.")


def _check_people(
    *, approvers: Iterable[User], custodians: Iterable[User], quorum: int
) -> tuple[list[User], list[User]]:
    approver_list = list(approvers)
    custodian_list = list(custodians)
    errors: dict[str, str] = {}
    not_approvers = [u.get_username() for u in approver_list if not policy.has_role(u, Role.APPROVER)]
    if not_approvers:
        errors["approvers"] = f"Not in the Approver role: {', '.join(sorted(not_approvers))}."
    not_custodians = [u.get_username() for u in custodian_list if not policy.has_role(u, Role.CUSTODIAN)]
    if not_custodians:
        errors["custodians"] = f"Not in the Custodian role: {', '.join(sorted(not_custodians))}."
    if len(approver_list) < quorum:
        errors["approval_quorum"] = (
            f"A quorum of {quorum} needs at least {quorum} approvers; this account has "
            f"{len(approver_list)}. Add approvers or lower the quorum."
        )
    if errors:
        raise DomainError(errors)
    return approver_list, custodian_list


def _usernames(users: Iterable[User]) -> list[str]:
    return sorted(u.get_username() for u in users)


def account_create(
    *,
    actor: User,
    account_id: str,
    name: str,
    root_email: str,
    environment: str,
    governance_mode: str,
    approval_quorum: int,
    max_session_minutes: int,
    ticket_required: bool,
    approvers: Iterable[User],
    custodians: Iterable[User],
    separate_duties: bool = True,
) -> AwsAccount:
    _require_admin(actor)
    check_plain_names({"name": name})
    approver_list, custodian_list = _check_people(
        approvers=approvers, custodians=custodians, quorum=approval_quorum
    )
    account = AwsAccount(
        account_id=account_id.strip(),
        name=name,
        root_email=root_email,
        environment=environment,
        governance_mode=governance_mode,
        approval_quorum=approval_quorum,
        max_session_minutes=max_session_minutes,
        ticket_required=ticket_required,
        separate_duties=separate_duties,
    )
    account.full_clean()
    with transaction.atomic():
        try:
            with transaction.atomic():
                account.save()
        except IntegrityError:
            raise DomainError(
                {"account_id": f"Account {account.account_id} is already in the inventory."}
            ) from None
        account.approvers.set(approver_list)
        account.custodians.set(custodian_list)
        ledger.record(
            actor=actor,
            action="account.created",
            target=account,
            data={
                **_account_facts(account),
                "approvers": _usernames(approver_list),
                "custodians": _usernames(custodian_list),
            },
        )
    return account


def _account_facts(account: AwsAccount) -> dict[str, Any]:
    facts = {field: getattr(account, field) for field in ACCOUNT_FIELDS}
    facts["governed"] = account.governed
    facts["root_email"] = account.root_email_masked
    return facts


def account_update(
    *,
    actor: User,
    account: AwsAccount,
    approvers: Iterable[User],
    custodians: Iterable[User],
    **fields: Any,
) -> AwsAccount:
    """Change an account's settings and who approves and keeps custody; the ledger gets the diff."""
    _require_admin(actor)
    unknown = set(fields) - set(ACCOUNT_FIELDS)
    if unknown:
        raise TypeError(f"account_update() got unexpected fields: {sorted(unknown)}")
    if "name" in fields:
        check_plain_names({"name": fields["name"]})
    quorum = int(fields.get("approval_quorum", account.approval_quorum))
    approver_list, custodian_list = _check_people(approvers=approvers, custodians=custodians, quorum=quorum)
    with transaction.atomic():
        locked = AwsAccount.objects.select_for_update().get(pk=account.pk)
        before = _account_facts(locked)
        before_approvers = _usernames(locked.approvers.all())
        before_custodians = _usernames(locked.custodians.all())
        for field, value in fields.items():
            setattr(locked, field, value)
        locked.full_clean()
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise DomainError(
                {"account_id": f"Account {locked.account_id} is already in the inventory."}
            ) from None
        locked.approvers.set(approver_list)
        locked.custodians.set(custodian_list)
        # An imported account becomes governed the first time an administrator saves who approves
        # (the quorum is checked above) and who keeps custody (a classic root has devices to keep;
        # a centralised one has none). It never goes back: removing people is an edit, not a reset.
        if not locked.governed and (custodian_list or locked.governance_mode == GovernanceMode.CENTRALISED):
            locked.governed = True
            locked.save(update_fields=["governed", "updated_at"])
        after = _account_facts(locked)
        changes: dict[str, Any] = {
            key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]
        }
        if _usernames(approver_list) != before_approvers:
            changes["approvers"] = {"from": before_approvers, "to": _usernames(approver_list)}
        if _usernames(custodian_list) != before_custodians:
            changes["custodians"] = {"from": before_custodians, "to": _usernames(custodian_list)}
        ledger.record(actor=actor, action="account.updated", target=locked, data={"changes": changes})
    return locked


# --- Root credentials --------------------------------------------------------------------------


def _credential_for_update(account: AwsAccount) -> tuple[RootCredential, str]:
    """The account's credential row, locked (or a new unsaved one), and its storage before the change.

    The account row is locked first so two administrators cannot create two credentials at once.
    """
    AwsAccount.objects.select_for_update().get(pk=account.pk)
    credential = RootCredential.objects.select_for_update().filter(account=account).first()
    if credential is None:
        return RootCredential(account=account), ""
    return credential, credential.storage


def _replace_credential(
    *,
    actor: User,
    account: AwsAccount,
    storage: str,
    password: str | None = None,
    safe_location: str = "",
    envelope_number: str = "",
) -> RootCredential:
    """Record where the account's root password now lives, replacing what was recorded before.

    Whatever the portal held is destroyed first: moving a password out of the portal must not
    leave a copy behind. A new password (or envelope) counts as a rotation.
    """
    with transaction.atomic():
        credential, previous = _credential_for_update(account)
        credential.storage = storage
        credential.ciphertext = None
        credential.encryption_key_id = ""
        credential.safe_location = safe_location
        credential.envelope_number = envelope_number
        if password is not None:
            secrets.seal_root_password(credential=credential, plaintext=password)
        if storage != CredentialStorage.NONE:
            credential.last_rotated_at = timezone.now()
        credential.rotation_required = False
        credential.save()
        facts: dict[str, Any] = {"account_id": account.account_id, "previous_storage": previous}
        if storage == CredentialStorage.PORTAL:
            facts["key_id"] = credential.encryption_key_id
        elif storage == CredentialStorage.PHYSICAL:
            facts.update(safe_location=safe_location, envelope_number=envelope_number)
        ledger.record(
            actor=actor,
            action=f"root_credential.{_CREDENTIAL_ACTIONS[storage]}",
            target=credential,
            data=facts,
        )
    return credential


_CREDENTIAL_ACTIONS: dict[str, str] = {
    CredentialStorage.PORTAL: "stored_in_portal",
    CredentialStorage.PHYSICAL: "recorded_physical",
    CredentialStorage.NONE: "recorded_none",
}


def root_credential_store_in_portal(*, actor: User, account: AwsAccount, password: str) -> RootCredential:
    """Keep the root password encrypted in the portal (a new password counts as a rotation)."""
    _require_admin(actor)
    if account.governance_mode == GovernanceMode.CENTRALISED:
        raise DomainError("This account uses centralised root access: its root user should have no password.")
    if len(password) < 20:
        raise DomainError(
            {"password": "A root password must be at least 20 characters (AWS allows up to 128)."}
        )
    return _replace_credential(
        actor=actor, account=account, storage=CredentialStorage.PORTAL, password=password
    )


def root_credential_record_physical(
    *, actor: User, account: AwsAccount, safe_location: str, envelope_number: str
) -> RootCredential:
    """Record that the root password is sealed in an envelope in a safe (the portal holds no copy)."""
    _require_admin(actor)
    if account.governance_mode == GovernanceMode.CENTRALISED:
        raise DomainError("This account uses centralised root access: its root user should have no password.")
    errors = {}
    if not safe_location.strip():
        errors["safe_location"] = "Say which safe holds the envelope."
    if not envelope_number.strip():
        errors["envelope_number"] = "Give the number printed on the sealed envelope."
    if errors:
        raise DomainError(errors)
    check_plain_names({"safe_location": safe_location, "envelope_number": envelope_number})
    return _replace_credential(
        actor=actor,
        account=account,
        storage=CredentialStorage.PHYSICAL,
        safe_location=safe_location.strip(),
        envelope_number=envelope_number.strip(),
    )


def root_credential_record_none(*, actor: User, account: AwsAccount) -> RootCredential:
    """Record that the root user has no password (centralised root access deleted it)."""
    _require_admin(actor)
    return _replace_credential(actor=actor, account=account, storage=CredentialStorage.NONE)


# --- MFA devices -------------------------------------------------------------------------------


def mfa_device_create(
    *, actor: User, kind: str, label: str, serial_number: str, storage_location: str
) -> MfaDevice:
    _require_admin(actor)
    check_plain_names({"label": label, "serial_number": serial_number, "storage_location": storage_location})
    device = MfaDevice(
        kind=kind, label=label, serial_number=serial_number.strip(), storage_location=storage_location
    )
    device.full_clean()
    with transaction.atomic():
        device.save()
        ledger.record(
            actor=actor,
            action="mfa_device.created",
            target=device,
            data={"kind": kind, "serial_number": device.serial_number, "storage_location": storage_location},
        )
    return device


def mfa_device_assign(*, actor: User, device: MfaDevice, account: AwsAccount) -> MfaDeviceAssignment:
    """Register ``device`` on ``account``'s root user, within AWS's and the domain's limits."""
    _require_admin(actor)
    limit = settings.PORTAL_MAX_MFA_DEVICES_PER_ACCOUNT
    with transaction.atomic():
        # Locking the account serialises concurrent assignments, so the count below stays true.
        locked_account = AwsAccount.objects.select_for_update().get(pk=account.pk)
        locked_device = MfaDevice.objects.select_for_update().get(pk=device.pk)
        if locked_device.custody_state in (CustodyState.LOST, CustodyState.RETIRED):
            raise DomainError(
                f"{locked_device} is {locked_device.get_custody_state_display().lower()} "
                "and cannot protect an account."
            )
        if locked_account.mfa_assignments.filter(device=locked_device).exists():
            raise DomainError(f"{locked_device} already protects {locked_account}.")
        if locked_account.mfa_assignments.count() >= limit:
            raise DomainError(
                f"{locked_account} already has {limit} MFA devices, the most AWS allows on a root user. "
                "Remove one first."
            )
        if locked_device.kind == MfaDeviceKind.HARDWARE_TOTP:
            other = locked_device.assignments.select_related("account").first()
            if other is not None:
                raise DomainError(
                    f"{locked_device} is a hardware TOTP token and already protects {other.account}; "
                    "a TOTP token can protect only one account. Use a FIDO security key to protect several."
                )
        try:
            with transaction.atomic():
                assignment = MfaDeviceAssignment.objects.create(
                    device=locked_device, account=locked_account, device_kind=locked_device.kind
                )
        except IntegrityError:
            raise DomainError(
                f"{locked_device} cannot be added to {locked_account}: it is already in use."
            ) from None
        ledger.record(
            actor=actor,
            action="mfa_device.assigned",
            target=locked_device,
            data={
                "account_id": locked_account.account_id,
                "kind": locked_device.kind,
                "virtual": locked_device.is_virtual,
            },
        )
    return assignment


def mfa_device_unassign(*, actor: User, device: MfaDevice, account: AwsAccount) -> None:
    _require_admin(actor)
    with transaction.atomic():
        deleted, _ = MfaDeviceAssignment.objects.filter(device=device, account=account).delete()
        if not deleted:
            raise DomainError(f"{device} does not protect {account}.")
        ledger.record(
            actor=actor,
            action="mfa_device.unassigned",
            target=device,
            data={"account_id": account.account_id},
        )


def mfa_device_update(
    *, actor: User, device: MfaDevice, label: str, storage_location: str, custody_state: str
) -> MfaDevice:
    """Edit a device's label and storage place, or mark it in the safe, lost or retired.

    Checking a device out (and back) is the check-out workflow's job, not an inventory edit.
    """
    _require_admin(actor)
    check_plain_names({"label": label, "storage_location": storage_location})
    if custody_state in (CustodyState.CHECKED_OUT, CustodyState.RETURNING):
        raise DomainError({"custody_state": "Devices are checked out through an approved request, not here."})
    with transaction.atomic():
        locked = MfaDevice.objects.select_for_update().get(pk=device.pk)
        if locked.custody_state == CustodyState.RETURNING and custody_state == CustodyState.IN_SAFE:
            # Only a custodian's confirmation puts a returned device back in the safe (it may be
            # marked lost if it never arrived).
            raise DomainError(
                {
                    "custody_state": f"{locked} was given back at a check-in; a custodian confirms it is "
                    "in the safe on that request's page."
                }
            )
        if locked.custody_state == CustodyState.CHECKED_OUT and custody_state != CustodyState.CHECKED_OUT:
            raise DomainError(
                {
                    "custody_state": f"{locked} is checked out to {locked.holder}; "
                    "it comes back through check-in."
                }
            )
        before = {
            "label": locked.label,
            "storage_location": locked.storage_location,
            "custody_state": locked.custody_state,
        }
        locked.label = label
        locked.storage_location = storage_location
        locked.custody_state = custody_state
        locked.full_clean()
        locked.save()
        after = {
            "label": locked.label,
            "storage_location": locked.storage_location,
            "custody_state": locked.custody_state,
        }
        ledger.record(
            actor=actor,
            action="mfa_device.updated",
            target=locked,
            data={
                "changes": {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
            },
        )
    return locked


# --- Grants ------------------------------------------------------------------------------------


def latest_grant_expiry() -> datetime:
    """The latest expiry a grant may be given now (``PORTAL_GRANT_MAX_DAYS`` ahead)."""
    return timezone.now() + timedelta(days=settings.PORTAL_GRANT_MAX_DAYS)


def _check_grant_expiry(expires_at: datetime) -> str | None:
    """Why ``expires_at`` is out of bounds for a grant, or None.

    Access is bounded so that every grant is looked at again at least every
    ``PORTAL_GRANT_MAX_DAYS``: an expiry in the year 9999 is a grant nobody reviews.
    """
    if expires_at <= timezone.now():
        return "The expiry must be in the future."
    if expires_at > latest_grant_expiry():
        days = settings.PORTAL_GRANT_MAX_DAYS
        return (
            f"A grant lasts at most {days} days (PORTAL_GRANT_MAX_DAYS): choose "
            f"{latest_grant_expiry():%Y-%m-%d %H:%M} UTC or earlier, and review it again then."
        )
    return None


def grant_create(
    *, actor: User, user: User, account: AwsAccount, expires_at: datetime, emergency: bool = False
) -> Grant:
    """Make ``user`` eligible to request ``account``'s root credential until ``expires_at``."""
    _require_admin(actor)
    errors: dict[str, str] = {}
    if not user.is_active:
        errors["user"] = f"{user.get_username()} is deactivated."
    elif not policy.has_role(user, Role.REQUESTER):
        errors["user"] = f"{user.get_username()} is not in the Requester role; give them the role first."
    expiry_refusal = _check_grant_expiry(expires_at)
    if expiry_refusal:
        errors["expires_at"] = expiry_refusal
    if errors:
        raise DomainError(errors)
    with transaction.atomic():
        try:
            with transaction.atomic():
                grant = Grant.objects.create(
                    user=user,
                    account=account,
                    granted_by=actor,
                    expires_at=expires_at,
                    emergency=emergency,
                    last_reviewed_at=timezone.now(),
                    last_reviewed_by=actor,
                )
        except IntegrityError:
            raise DomainError(
                {
                    "user": f"{user.get_username()} already holds a grant for {account}; "
                    "review or revoke it instead."
                }
            ) from None
        ledger.record(
            actor=actor,
            action="grant.created",
            target=grant,
            data={
                "user": user.get_username(),
                "account_id": account.account_id,
                "expires_at": expires_at.isoformat(),
                "emergency": emergency,
            },
        )
    return grant


def _check_review(actor: User, review: ReviewItem | None, grant: Grant) -> None:
    """An administrator revokes; otherwise ``review`` is the access-review decision that does
    (``breakglass.reviews`` checked its reviewer on the locked item): about this grant, by ``actor``."""
    if review is None:
        _require_admin(actor)
    elif review.grant_id != grant.pk or review.decided_by_id != actor.pk:
        raise DomainError("This review decision is not about this grant.")


def grant_revoke(*, actor: User, grant: Grant, review: ReviewItem | None = None) -> Grant:
    """End a grant now: an administrator's act, or a reviewer's revoke decision (``review``)."""
    _check_review(actor, review, grant)
    with transaction.atomic():
        locked = Grant.objects.select_for_update().select_related("user", "account").get(pk=grant.pk)
        if locked.revoked_at is not None:
            raise DomainError("This grant was already revoked.")
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at", "updated_at"])
        data = {"user": locked.user.get_username(), "account_id": locked.account.account_id}
        if review is not None:
            data["review_item"] = str(review.uuid)
        ledger.record(actor=actor, action="grant.revoked", target=locked, data=data)
    return locked


def grant_review(*, actor: User, grant: Grant, expires_at: datetime) -> Grant:
    """Confirm a grant is still needed (access review), optionally moving its expiry."""
    _require_admin(actor)
    if expires_at <= timezone.now():
        raise DomainError({"expires_at": "The expiry must be in the future; revoke the grant to end it."})
    expiry_refusal = _check_grant_expiry(expires_at)
    if expiry_refusal:
        raise DomainError({"expires_at": expiry_refusal})
    with transaction.atomic():
        locked = Grant.objects.select_for_update().select_related("user", "account").get(pk=grant.pk)
        if locked.revoked_at is not None:
            raise DomainError("A revoked grant cannot be reviewed; create a new one.")
        previous = locked.expires_at
        locked.expires_at = expires_at
        locked.last_reviewed_at = timezone.now()
        locked.last_reviewed_by = actor
        locked.save(update_fields=["expires_at", "last_reviewed_at", "last_reviewed_by", "updated_at"])
        ledger.record(
            actor=actor,
            action="grant.reviewed",
            target=locked,
            data={
                "user": locked.user.get_username(),
                "account_id": locked.account.account_id,
                "expires_at": {"from": previous.isoformat(), "to": expires_at.isoformat()},
            },
        )
    return locked
