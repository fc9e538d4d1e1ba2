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
