"""Single sign-on: identity-provider groups become portal roles at every sign-in, each change recorded.

These drive allauth's own social-login flow (``complete_social_login`` on a ``SocialLogin`` that the
OpenID Connect provider builds from claims), short of talking to a real identity provider.
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.core.context import request_context
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialLogin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from breakglass.identity import idp_groups_of
from breakglass.models import Notification
from ledger.models import LedgerEntry
from portal import policy
from portal.policy import Role

pytestmark = pytest.mark.django_db

OIDC = {
    "openid_connect": {
        "APPS": [
            {
                "provider_id": "sso",
                "name": "Single sign-on",
                "client_id": "portal",
                "secret": "client-secret",
                "settings": {"server_url": "https://idp.example.test"},
            }
        ]
    }
}
MAPPING = {
    "aws-approvers": ("Approver",),
    "aws-admins": ("Administrator", "Auditor"),
    "staff": ("Requester",),
}


@pytest.fixture(autouse=True)
def sso(settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = OIDC
    settings.PORTAL_SSO_GROUP_ROLES = MAPPING
    settings.PORTAL_SSO_GROUPS_CLAIM = "groups"


def _request() -> HttpRequest:
    request = RequestFactory().get("/accounts/oidc/sso/login/callback/")
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    MessageMiddleware(lambda r: HttpResponse()).process_request(request)
    request.user = AnonymousUser()
    return request


def sign_in(*, sub: str = "idp-user-1", groups: list[str] | None = None, where: str = "userinfo") -> Any:
    """Run allauth's social login for an OpenID Connect person with ``groups`` in the claim."""
    request = _request()
    with request_context(request):  # what allauth's middleware does for a real request
        return _complete(request, sub=sub, groups=groups, where=where)


def _complete(request: HttpRequest, *, sub: str, groups: list[str] | None, where: str) -> Any:
    provider = get_adapter().get_provider(request, "sso")
    claims: dict[str, Any] = {"sub": sub, "email": f"{sub}@example.test", "preferred_username": sub}
    data: dict[str, Any] = {"userinfo": dict(claims), "id_token": dict(claims)}
    if groups is not None:
        data[where]["groups"] = groups
    sociallogin: SocialLogin = provider.sociallogin_from_response(request, data)
    sociallogin.state = {"process": "login", "next": "/"}
    response = complete_social_login(request, sociallogin)
    assert response.status_code == 302, getattr(response, "content", b"")[:500]
    return get_user_model().objects.get(socialaccount__uid=sub)


def roles_of(user: Any) -> set[str]:
    policy.forget_roles(user)
    return {role.value for role in policy.roles(get_user_model().objects.get(pk=user.pk))}


def test_a_new_person_from_the_identity_provider_gets_the_mapped_roles() -> None:
    person = sign_in(groups=["aws-approvers", "staff", "unrelated"])

    assert roles_of(person) == {"Approver", "Requester"}
    entry = LedgerEntry.objects.get(action="user.roles_changed", target_id=str(person.pk))
    assert entry.actor_id is None
    assert entry.data["source"] == "single sign-on (sso)"
    assert entry.data["changes"]["groups"] == {"from": [], "to": ["Approver", "Requester"]}
    assert entry.data["idp_groups"] == ["aws-approvers", "staff"]  # only the mapped ones
    assert entry.data["roles_gained"] == ["Approver"]
    assert LedgerEntry.objects.filter(action="auth.signed_in", actor_id=person.pk).exists()


def test_roles_follow_the_identity_provider_at_every_sign_in() -> None:
    person = sign_in(groups=["aws-approvers"])

    sign_in(groups=["staff"])

    assert roles_of(person) == {"Requester"}
    latest = LedgerEntry.objects.filter(action="user.roles_changed").order_by("-sequence").first()
    assert latest is not None
    assert latest.data["changes"]["groups"] == {"from": ["Approver"], "to": ["Requester"]}


def test_an_unchanged_sign_in_writes_no_role_entry() -> None:
    sign_in(groups=["staff"])
    sign_in(groups=["staff"])

    assert LedgerEntry.objects.filter(action="user.roles_changed").count() == 1
    assert LedgerEntry.objects.filter(action="auth.signed_in").count() == 2


def test_a_person_no_longer_in_any_mapped_group_loses_every_role() -> None:
    person = sign_in(groups=["aws-admins"])
    assert roles_of(person) == {"Administrator", "Auditor"}

    sign_in(groups=None)

    assert roles_of(person) == set()


def test_groups_in_the_id_token_count_too() -> None:
    person = sign_in(groups=["aws-approvers"], where="id_token")
    assert roles_of(person) == {"Approver"}


def test_groups_that_are_not_roles_are_left_alone() -> None:
    person = sign_in(groups=["staff"])
    other = person.groups.create(name="Newsletter")

    sign_in(groups=[])

    assert list(person.groups.values_list("name", flat=True)) == [other.name]


def test_without_a_mapping_roles_stay_as_administrators_set_them(settings: Any) -> None:
    settings.PORTAL_SSO_GROUP_ROLES = {}
    person = sign_in(groups=["aws-admins"])
    assert roles_of(person) == set()

    person.groups.add(Group.objects.get_or_create(name=Role.AUDITOR.value)[0])
    sign_in(groups=[])

    assert roles_of(person) == {"Auditor"}


def test_gaining_a_privileged_role_tells_the_other_administrators(make_persona: Any) -> None:
    administrator = make_persona("ada.admin", Role.ADMINISTRATOR)

    person = sign_in(groups=["aws-admins"])

    told = Notification.objects.filter(event="role.granted")
    assert [n.recipient for n in told] == [administrator]
    assert person.username in told[0].subject
    assert "Administrator" in told[0].subject


def test_the_groups_claim_is_read_from_saml_attributes_too() -> None:
    attributes = {"groups": ["aws-approvers", "staff"], "uid": ["someone"]}
    assert idp_groups_of(attributes, "groups") == {"aws-approvers", "staff"}
    assert idp_groups_of({"userinfo": {"groups": "staff"}}, "groups") == {"staff"}
    assert idp_groups_of({}, "groups") == frozenset()
