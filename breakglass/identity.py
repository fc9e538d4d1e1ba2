"""Who may do what, written: every change of a person's roles and powers is a ledger entry.

A person's *authority* is what the portal and Django consult to let them act: their groups (the
portal's roles are groups), direct permissions, and the superuser, staff and active flags. The Django
admin (``breakglass.user_admin``) and single sign-on (:func:`sso_roles_apply`) change it; both take a
snapshot before (:func:`authority_of`) and call :func:`user_authority_record` after, in the same
transaction, which writes the difference to the ledger and tells the other administrators when
someone became an approver, a custodian or an administrator (a quiet promotion is what an attacker
who took over one administrator would try first). Per-account approvers and custodians are changed
only by ``breakglass.services.account_update`` (the admin shows accounts read-only), which records
them itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from breakglass.notifications.outbox import queue_role_granted
from ledger import services as ledger
from portal import policy
from portal.policy import Role

if TYPE_CHECKING:
    from allauth.socialaccount.models import SocialLogin
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

ROLES_CHANGED = "user.roles_changed"
USER_CREATED = "user.created"
USER_DELETED = "user.deleted"
PASSWORD_SET_BY_ADMINISTRATOR = "user.password_set"
ROLE_NAMES = frozenset(role.value for role in Role)
#: Gaining one of these roles is announced to the other administrators.
ANNOUNCED_ROLES = (Role.APPROVER, Role.CUSTODIAN, Role.ADMINISTRATOR)


@dataclass(frozen=True)
class Authority:
    """What lets one person act, as stored (read fresh from the database, never from a cache)."""

    groups: tuple[str, ...]
    permissions: tuple[str, ...]
    is_superuser: bool
    is_staff: bool
    is_active: bool

    @property
    def roles(self) -> frozenset[Role]:
        # As portal.policy.roles: a superuser counts as an administrator.
        found = {role for role in Role if role.value in self.groups}
        if self.is_superuser:
            found.add(Role.ADMINISTRATOR)
        return frozenset(found)


NO_AUTHORITY = Authority(groups=(), permissions=(), is_superuser=False, is_staff=False, is_active=False)


def authority_of(user: AbstractBaseUser) -> Authority:
    """The person's authority as the database holds it now (``NO_AUTHORITY`` for an unsaved user)."""
    if user.pk is None:
        return NO_AUTHORITY
    stored = get_user_model().objects.get(pk=user.pk)
    return Authority(
        groups=tuple(sorted(stored.groups.values_list("name", flat=True))),
        permissions=tuple(
            sorted(
                f"{app}.{codename}"
                for app, codename in stored.user_permissions.values_list(
                    "content_type__app_label", "codename"
                )
            )
        ),
        is_superuser=bool(stored.is_superuser),
        is_staff=bool(stored.is_staff),
        is_active=bool(stored.is_active),
    )


def authority_changes(before: Authority, after: Authority) -> dict[str, Any]:
    """``{field: {"from": ..., "to": ...}}`` for each field that differs (lists for the sets)."""
    old, new = asdict(before), asdict(after)
    return {
        field: {
            "from": list(old[field]) if isinstance(old[field], tuple) else old[field],
            "to": list(new[field]) if isinstance(new[field], tuple) else new[field],
        }
        for field in new
        if old[field] != new[field]
    }


def user_authority_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    user: AbstractBaseUser,
    before: Authority,
    source: str,
    action: str = ROLES_CHANGED,
    data: Mapping[str, Any] | None = None,
) -> bool:
    """Record how ``user``'s authority changed since ``before``; announce new privileged roles.

    Call it inside the transaction of the change, after it. For ``ROLES_CHANGED`` nothing is written
    when nothing changed; other actions (created, password set) are always written. Returns whether
    an entry was written.
    """
    after = authority_of(user)
    changes = authority_changes(before, after)
    if action == ROLES_CHANGED and not changes:
        return False
    policy.forget_roles(user)
    gained = [role for role in ANNOUNCED_ROLES if role in after.roles and role not in before.roles]
    ledger.record(
        actor=actor,
        action=action,
        target=user,
        data={
            "user": user.get_username(),
            "source": source,
            "changes": changes,
            "roles_gained": [role.value for role in gained],
            **(data or {}),
        },
    )
    if gained:
        queue_role_granted(person=user, roles=[role.value for role in gained], actor=actor, source=source)
    return True


# --- Single sign-on ---------------------------------------------------------------------------


def idp_groups_of(extra_data: Mapping[str, Any], claim: str) -> frozenset[str]:
    """The identity provider's groups in a social account's data.

    OpenID Connect keeps the claims under ``userinfo`` and ``id_token``; SAML keeps each attribute as
    a list at the top level. A claim may be a list or a single string. Nothing found: no groups.
    """
    found: set[str] = set()
    for where in (extra_data, extra_data.get("userinfo"), extra_data.get("id_token")):
        if not isinstance(where, Mapping):
            continue
        value = where.get(claim)
        values: Iterable[Any] = (
            [value] if isinstance(value, str) else value if isinstance(value, list) else []
        )
        found.update(str(item).strip() for item in values if str(item).strip())
    return frozenset(found)


def provider_kind(sociallogin: SocialLogin) -> str:
    """``openid_connect`` or ``saml`` (the account's ``provider`` field holds the app's own id)."""
    return str(sociallogin.account.get_provider().id)


def sso_roles_apply(*, user: AbstractBaseUser, sociallogin: SocialLogin) -> bool:
    """Make ``user``'s portal roles those that ``PORTAL_SSO_GROUP_ROLES`` maps their identity
    provider's groups to, at each single sign-on. Returns whether anything changed.

    With no mapping configured, roles stay as administrators set them. With one, the identity
    provider decides all five roles: a role no group maps to is taken away (leaving a group at the
    provider takes the role away at the next sign-in). Groups that are not portal roles are kept.
    """
    mapping: Mapping[str, tuple[str, ...]] = getattr(settings, "PORTAL_SSO_GROUP_ROLES", {}) or {}
    if not mapping:
        return False
    provider = sociallogin.account.provider
    saml = provider_kind(sociallogin) == "saml"
    claim: str = settings.PORTAL_SAML_GROUPS_ATTRIBUTE if saml else settings.PORTAL_SSO_GROUPS_CLAIM
    idp_groups = idp_groups_of(sociallogin.account.extra_data or {}, claim)
    wanted = {role for group in idp_groups for role in mapping.get(group, ())}
    with transaction.atomic():
        # Locks the person so two sign-ins at once do not interleave their changes.
        get_user_model().objects.select_for_update().get(pk=user.pk)
        before = authority_of(user)
        held = set(before.groups) & ROLE_NAMES
        to_add = [Group.objects.get_or_create(name=name)[0] for name in sorted(wanted - held)]
        if to_add:
            user.groups.add(*to_add)  # type: ignore[attr-defined]
        if held - wanted:
            user.groups.remove(*Group.objects.filter(name__in=held - wanted))  # type: ignore[attr-defined]
        return user_authority_record(
            actor=None,
            user=user,
            before=before,
            source=f"single sign-on ({provider})",
            data={"idp_groups": sorted(group for group in idp_groups if group in mapping)},
        )


__all__ = [
    "ANNOUNCED_ROLES",
    "NO_AUTHORITY",
    "PASSWORD_SET_BY_ADMINISTRATOR",
    "ROLES_CHANGED",
    "USER_CREATED",
    "USER_DELETED",
    "Authority",
    "authority_changes",
    "authority_of",
    "idp_groups_of",
    "provider_kind",
    "sso_roles_apply",
    "user_authority_record",
]
