"""Role membership and a person's phone number, changed from the portal's people pages.

Roles are Django groups (``portal.policy``); each change goes through :mod:`breakglass.identity`'s
snapshot and ``user_authority_record`` in the same transaction, so the ledger holds the difference
(``user.roles_changed``, source *portal*) and the other administrators hear when someone became an
approver, a custodian or an administrator, exactly as for a change in the Django admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q

from breakglass.identity import authority_of, user_authority_record
from breakglass.people_models import PersonProfile
from ledger import services as ledger
from portal.errors import DomainError
from portal.people import person_label
from portal.policy import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SOURCE = "portal people page"
PHONE_CHANGED = "person.phone_changed"


def administrators_q() -> Q:
    """Active people who are administrators (the group, or a superuser, as ``policy.roles`` counts)."""
    return Q(is_active=True) & (Q(groups__name=Role.ADMINISTRATOR.value) | Q(is_superuser=True))


def refusal_to_remove_role(*, person: User, role: Role) -> str | None:
    """Why ``role`` may not be taken from ``person`` now, or None. The last administrator is kept:
    without one nobody can add people, accounts or grants again."""
    if role != Role.ADMINISTRATOR:
        return None
    others = get_user_model().objects.filter(administrators_q()).exclude(pk=person.pk).distinct()
    if person.is_superuser and not person.groups.filter(name=Role.ADMINISTRATOR.value).exists():
        return f"{person_label(person)} is a superuser; change that in the Django admin."
    if not others.exists():
        return (
            f"{person_label(person)} is the last administrator: add another administrator first, "
            "or nobody could manage the portal."
        )
    return None


def role_member_add(*, actor: User, person: User, role: Role) -> bool:
    """Give ``person`` the role; False when they already held it (nothing recorded)."""
    with transaction.atomic():
        get_user_model().objects.select_for_update().get(pk=person.pk)
        before = authority_of(person)
        person.groups.add(Group.objects.get_or_create(name=role.value)[0])
        return user_authority_record(actor=actor, user=person, before=before, source=SOURCE)


def role_member_remove(*, actor: User, person: User, role: Role) -> bool:
    """Take the role from ``person``; refused for the last administrator. False when they did not
    hold it. Removals of administrators are serialised on the group's row, so two administrators
    removing each other at the same moment cannot leave none."""
    with transaction.atomic():
        group = Group.objects.select_for_update().filter(name=role.value).first()
        if group is None:
            return False
        refusal = refusal_to_remove_role(person=person, role=role)
        if refusal is not None:
            raise DomainError(refusal)
        get_user_model().objects.select_for_update().get(pk=person.pk)
        before = authority_of(person)
        person.groups.remove(group)
        return user_authority_record(actor=actor, user=person, before=before, source=SOURCE)


def person_phone_set(*, actor: User, person: User, phone: str) -> PersonProfile:
    """Record ``person``'s phone number (``""`` removes it); by themself or an administrator. The
    ledger names who changed it, not the number (it is on the profile, for those who may see it)."""
    with transaction.atomic():
        profile, _ = PersonProfile.objects.select_for_update().get_or_create(user=person)
        if profile.phone == phone:
            return profile
        had = bool(profile.phone)
        profile.phone = phone
        profile.full_clean()
        profile.save(update_fields=["phone", "updated_at"])
        ledger.record(
            actor=actor,
            action=PHONE_CHANGED,
            target=person,
            data={
                "user": person.get_username(),
                "change": "removed" if not phone else ("changed" if had else "added"),
                "by_self": actor.pk == person.pk,
            },
        )
    return profile
