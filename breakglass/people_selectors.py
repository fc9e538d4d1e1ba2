"""Reads of the people pages: who holds each role, and one person's roles, accounts and grants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import Http404

from breakglass.models import AwsAccount, Grant
from portal import policy
from portal.policy import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: Members listed per role on the index page; beyond that the role links to a filtered list.
MEMBERS_SHOWN = 200


@dataclass(frozen=True)
class RoleMembers:
    role: Role
    members: list[Any]
    total: int


def role_members(*, user: Any) -> list[RoleMembers]:
    """Each role with its active members (profiles joined, for their phone numbers)."""
    if not policy.may_view_people(user):
        return []
    people = get_user_model().objects.filter(is_active=True).select_related("profile")
    found = []
    for role in Role:
        in_role = Q(groups__name=role.value)
        if role == Role.ADMINISTRATOR:
            in_role |= Q(is_superuser=True)
        members = people.filter(in_role).distinct().order_by("username")
        shown = list(members[:MEMBERS_SHOWN])
        found.append(
            RoleMembers(
                role=role,
                members=shown,
                total=len(shown) if len(shown) < MEMBERS_SHOWN else members.count(),
            )
        )
    return found


def person_for(*, user: Any, username: str) -> User:
    """The person a people page is about; 404 for those who may not see people pages."""
    if not policy.may_view_people(user):
        raise Http404("No such person.")
    found = get_user_model().objects.select_related("profile").filter(username=username).first()
    if found is None:
        raise Http404("No such person.")
    return found


@dataclass(frozen=True)
class PersonAccess:
    roles: list[Role]
    approver_of: list[AwsAccount]
    custodian_of: list[AwsAccount]
    grants: list[Grant]


def person_access(*, person: User) -> PersonAccess:
    """The person's roles, the accounts they approve for and keep, and their live grants."""
    policy.forget_roles(person)
    return PersonAccess(
        roles=sorted(policy.roles(person), key=list(Role).index),
        approver_of=list(AwsAccount.objects.filter(approvers=person).order_by("name")),
        custodian_of=list(AwsAccount.objects.filter(custodians=person).order_by("name")),
        grants=list(
            Grant.objects.live().filter(user=person).select_related("account").order_by("account__name")
        ),
    )
