"""Who may see and do what: the one place every view, export and task asks.

Roles are Django groups (created by a migration in ``breakglass``); rights on a single account are
data (grants, approvers, custodians). Functions here are pure questions: they never write.
Anything not explicitly allowed is refused (fail closed).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from breakglass.models import AwsAccount

    AnyUser = AbstractBaseUser | AnonymousUser


class Role(enum.StrEnum):
    REQUESTER = "Requester"
    APPROVER = "Approver"
    CUSTODIAN = "Custodian"
    AUDITOR = "Auditor"
    ADMINISTRATOR = "Administrator"


#: Roles whose holders cannot use the portal until they have enrolled an MFA authenticator.
MFA_REQUIRED_ROLES = frozenset({Role.APPROVER, Role.CUSTODIAN, Role.AUDITOR, Role.ADMINISTRATOR})

_ROLE_CACHE = "_portal_roles"


def roles(user: AnyUser) -> frozenset[Role]:
    """The roles a person holds; a superuser counts as an administrator. Cached per user object."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, _ROLE_CACHE, None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        found = {role for role in Role if role.value in names}
        if getattr(user, "is_superuser", False):
            found.add(Role.ADMINISTRATOR)
        cached = frozenset(found)
        setattr(user, _ROLE_CACHE, cached)
    return cached


def forget_roles(user: Any) -> None:
    """Drop the cached roles (after group membership changed in the same request)."""
    if hasattr(user, _ROLE_CACHE):
        delattr(user, _ROLE_CACHE)


def has_role(user: AnyUser, *wanted: Role) -> bool:
    return bool(roles(user) & set(wanted))


def requires_mfa(user: AnyUser) -> bool:
    return bool(roles(user) & MFA_REQUIRED_ROLES)


def has_mfa(user: AnyUser) -> bool:
    from allauth.mfa.utils import is_mfa_enabled

    return bool(user.is_authenticated and is_mfa_enabled(user))


def may_use_portal(user: AnyUser) -> bool:
    """Signed in, holds at least one role and, where the role demands it, has MFA."""
    held = roles(user)
    if not held:
        return False
    return not (held & MFA_REQUIRED_ROLES) or has_mfa(user)


# --- Inventory ------------------------------------------------------------------------------


def sees_every_account(user: AnyUser) -> bool:
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


def visible_accounts_filter(user: AnyUser) -> Q:
    """A filter on ``AwsAccount`` for the accounts a person may see.

    Administrators and auditors see all; everyone else sees the accounts they hold an unexpired
    grant for, approve for or are custodian of. Nobody else sees anything.
    """
    if not may_use_portal(user):
        return Q(pk__in=[])
    if sees_every_account(user):
        return Q()
    now = timezone.now()
    return (
        Q(grants__user=user, grants__revoked_at__isnull=True, grants__expires_at__gt=now)
        | Q(approvers=user)
        | Q(custodians=user)
    )


def may_view_account(user: AnyUser, account: AwsAccount) -> bool:
    if not may_use_portal(user):
        return False
    if sees_every_account(user):
        return True
    from breakglass.models import AwsAccount

    return AwsAccount.objects.filter(visible_accounts_filter(user), pk=account.pk).exists()


def may_manage_inventory(user: AnyUser) -> bool:
    """Create and edit accounts, credentials, MFA devices and grants."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR)


def may_view_ledger(user: AnyUser) -> bool:
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


def may_view_devices(user: AnyUser) -> bool:
    """The custody board of MFA devices: those who keep, manage or audit them."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR, Role.CUSTODIAN)


# --- Break-glass requests ----------------------------------------------------------------------
# These answer "may this person see or try this?" for pages and buttons. The lifecycle services
# check every rule again under a row lock; a yes here never replaces that.

if TYPE_CHECKING:
    from breakglass.models import AccessRequest


def _is_among(user: AnyUser, people: Any) -> bool:
    # Iterates the (usually prefetched) related manager instead of querying per question.
    return any(person.pk == user.pk for person in people.all())


def visible_requests_filter(user: AnyUser) -> Q:
    """A filter on ``AccessRequest`` for the requests a person may see.

    Administrators and auditors see all; others see their own and those of the accounts they
    approve for or keep custody of. Nobody else sees anything.
    """
    if not may_use_portal(user):
        return Q(pk__in=[])
    if sees_every_account(user):
        return Q()
    return Q(requester=user) | Q(account__approvers=user) | Q(account__custodians=user)


def may_view_request(user: AnyUser, request: AccessRequest) -> bool:
    if not may_use_portal(user):
        return False
    if sees_every_account(user) or request.requester_id == user.pk:
        return True
    return _is_among(user, request.account.approvers) or _is_among(user, request.account.custodians)


def is_custodian_of_request(user: AnyUser, request: AccessRequest) -> bool:
    return may_use_portal(user) and _is_among(user, request.account.custodians)


def may_decide_request(user: AnyUser, request: AccessRequest) -> bool:
    """An approver of the account who is not the requester and has not decided yet, while the
    request takes decisions (pending, or an emergency session still collecting approvals)."""
    from breakglass.choices import RequestStatus as S

    if not may_use_portal(user) or request.requester_id == user.pk:
        return False
    if not _is_among(user, request.account.approvers):
        return False
    if any(approval.approver_id == user.pk for approval in request.approvals.all()):
        return False
    collecting_afterwards = (
        request.emergency
        and request.emergency_approved_at is None
        and request.status in (S.ACTIVE, S.RETURNED, S.CLOSED)
    )
    return request.status == S.PENDING or collecting_afterwards


def may_cancel_request(user: AnyUser, request: AccessRequest) -> bool:
    from breakglass.choices import RequestStatus as S

    return (
        may_use_portal(user) and request.requester_id == user.pk and request.status in (S.PENDING, S.APPROVED)
    )


def may_check_out_request(user: AnyUser, request: AccessRequest) -> bool:
    from breakglass.choices import RequestStatus as S

    return may_use_portal(user) and request.requester_id == user.pk and request.status == S.APPROVED


def may_hand_over_devices(user: AnyUser, request: AccessRequest) -> bool:
    """A custodian of the account, never the holder, during the active session."""
    from breakglass.choices import RequestStatus as S

    return (
        request.status == S.ACTIVE
        and request.requester_id != user.pk
        and is_custodian_of_request(user, request)
    )


def may_reveal_password(user: AnyUser, request: AccessRequest) -> bool:
    """Only the holder of an active session, and only for a password kept in the portal."""
    from breakglass.choices import CredentialStorage
    from breakglass.choices import RequestStatus as S

    credential = request.account.root_credential_or_none
    return (
        may_use_portal(user)
        and request.requester_id == user.pk
        and request.status == S.ACTIVE
        and credential is not None
        and credential.storage == CredentialStorage.PORTAL
    )


def may_check_in_request(user: AnyUser, request: AccessRequest) -> bool:
    """The holder or a custodian, for an active session or a revoked one not yet returned."""
    from breakglass.choices import RequestStatus as S

    returning_revoked = (
        request.status == S.REVOKED and request.checked_out_at is not None and request.checked_in_at is None
    )
    if request.status != S.ACTIVE and not returning_revoked:
        return False
    return (may_use_portal(user) and request.requester_id == user.pk) or is_custodian_of_request(
        user, request
    )


def may_confirm_rotation(user: AnyUser, request: AccessRequest) -> bool:
    """A custodian or administrator who did not hold the session, after check-in."""
    from breakglass.choices import RequestStatus as S

    if request.status != S.RETURNED or request.requester_id == user.pk:
        return False
    return may_manage_inventory(user) or is_custodian_of_request(user, request)


def may_revoke_request(user: AnyUser, request: AccessRequest) -> bool:
    from breakglass.choices import RequestStatus as S

    return may_manage_inventory(user) and request.status in (S.PENDING, S.APPROVED, S.ACTIVE)


# --- Findings ------------------------------------------------------------------------------------


def may_view_all_findings(user: AnyUser) -> bool:
    """Auditors and administrators see every finding, those of unknown accounts included."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


def visible_findings_filter(user: AnyUser) -> Q:
    """A filter on ``audits.Finding``: all for auditors and administrators; for approvers and
    custodians, the findings of the accounts they answer for; nothing for anyone else."""
    if not may_use_portal(user):
        return Q(pk__in=[])
    if may_view_all_findings(user):
        return Q()
    return Q(account__approvers=user) | Q(account__custodians=user)


def may_triage_findings(user: AnyUser) -> bool:
    """Acknowledge, resolve or mark a finding a false positive: auditors and administrators."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


def may_view_ingestion(user: AnyUser) -> bool:
    """Ingestion runs (what was read, what was rejected): auditors and administrators."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


def may_view_findings(user: AnyUser) -> bool:
    """Open the findings pages: auditors and administrators (all findings), approvers and custodians
    (the findings of their accounts, through ``visible_findings_filter``)."""
    return may_use_portal(user) and has_role(
        user, Role.ADMINISTRATOR, Role.AUDITOR, Role.APPROVER, Role.CUSTODIAN
    )


def may_upload_logs(user: AnyUser) -> bool:
    """Upload a CloudTrail log file for ingestion: auditors and administrators."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)
