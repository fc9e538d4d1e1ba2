"""Single sign-on beyond roles (breakglass.sso): accounts created or connected, the provider's name
and address at every sign-in, sessions ended with a lost role, and the sign-in's second factor.

These run allauth's own social-login flow (``complete_social_login``) on what the OpenID Connect
provider builds from claims; the browser tests (test_browser_sso.py) use real providers.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from allauth.account.models import Login
from allauth.core.context import request_context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialLogin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from breakglass.identity import USER_CREATED
from breakglass.sso import (
    MFA_BY_IDENTITY_PROVIDER,
    PROFILE_UPDATED,
    SESSIONS_ENDED,
    SSO_CONNECTED,
    SSO_REFUSED,
    ProviderMfaAuthenticateStage,
    idp_asserted_mfa,
    may_enrol_first_factor_now,
)
from ledger.models import LedgerEntry
from portal.testing import enrol_totp

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


@pytest.fixture(autouse=True)
def sso(settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = OIDC
    settings.PORTAL_SSO_GROUP_ROLES = {"aws-approvers": ("Approver",), "staff": ("Requester",)}
    settings.PORTAL_SSO_GROUPS_CLAIM = "groups"


def _request() -> HttpRequest:
    request = RequestFactory().get("/accounts/oidc/sso/login/callback/")
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    MessageMiddleware(lambda r: HttpResponse()).process_request(request)
    request.user = AnonymousUser()
    return request


def _sociallogin(
    request: HttpRequest, claims: dict[str, Any], id_token: dict[str, Any] | None = None
) -> SocialLogin:
    provider = get_adapter().get_provider(request, "sso")
    data = {"userinfo": dict(claims), "id_token": {"sub": claims["sub"], **(id_token or {})}}
    sociallogin: SocialLogin = provider.sociallogin_from_response(request, data)
    sociallogin.state = {"process": "login", "next": "/"}
    return sociallogin


def sign_in(*, expect: int = 302, **claims: Any) -> tuple[HttpRequest, HttpResponse]:
    """allauth's social login for an OpenID Connect person with these claims (``sub`` at least)."""
    claims = {"email": f"{claims['sub']}@example.test", "email_verified": True, **claims}
    request = _request()
    with request_context(request):
        try:
            response = complete_social_login(request, _sociallogin(request, claims))
        except ImmediateHttpResponse as immediate:
            response = immediate.response
    assert response.status_code == expect, getattr(response, "content", b"")[:500]
    return request, response


def _entries(action: str) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(action=action).order_by("sequence"))


def test_a_new_person_gets_an_account_with_the_providers_name_and_address_and_an_entry() -> None:
    sign_in(sub="u-1", name="Ada Lovelace", email="ada@example.org", preferred_username="ada")

    ada = get_user_model().objects.get(socialaccount__uid="u-1")
    assert (ada.username, ada.email, ada.first_name, ada.last_name) == (
        "ada",
        "ada@example.org",
        "Ada",
        "Lovelace",
    )
    assert not ada.has_usable_password()
    [created] = _entries(USER_CREATED)
    assert created.target_id == str(ada.pk)
    assert created.data["source"] == "single sign-on (sso)"
    assert created.data["email"] == "ada@example.org"


def test_name_and_address_follow_the_provider_at_every_sign_in() -> None:
    sign_in(sub="u-1", name="Ada Byron", email="ada@old.example")

    sign_in(sub="u-1", given_name="Ada", family_name="Lovelace", email="ada@new.example")

    ada = get_user_model().objects.get(socialaccount__uid="u-1")
    assert (ada.first_name, ada.last_name, ada.email) == ("Ada", "Lovelace", "ada@new.example")
    [updated] = _entries(PROFILE_UPDATED)
    assert updated.data["changes"] == {
        "last_name": {"from": "Byron", "to": "Lovelace"},
        "email": {"from": "ada@old.example", "to": "ada@new.example"},
    }
    sign_in(sub="u-1", given_name="Ada", family_name="Lovelace", email="ada@new.example")
    assert len(_entries(PROFILE_UPDATED)) == 1  # nothing changed, nothing written


def test_an_existing_account_is_connected_by_a_verified_address_when_allowed(
    settings: Any, make_persona: Any
) -> None:
    settings.SOCIALACCOUNT_EMAIL_AUTHENTICATION = True  # what PORTAL_SSO_CONNECT_BY_EMAIL=true sets
    existing = make_persona("ada.local", mfa=False)
    existing.email = "ada@example.org"
    existing.save()

    sign_in(sub="u-1", email="ada@example.org", email_verified=True, groups=["staff"])

    assert get_user_model().objects.count() == 1
    assert existing.socialaccount_set.get().uid == "u-1"
    [connected] = _entries(SSO_CONNECTED)
    assert connected.target_id == str(existing.pk)
    assert connected.data["email"] == "ada@example.org"
    assert list(existing.groups.values_list("name", flat=True)) == ["Requester"]
    assert not _entries(USER_CREATED)


@pytest.mark.parametrize(("connect_by_email", "verified"), [(True, False), (False, True), (False, False)])
def test_an_address_already_in_use_connects_nobody_and_makes_no_second_account(
    settings: Any, make_persona: Any, connect_by_email: bool, verified: bool
) -> None:
    settings.SOCIALACCOUNT_EMAIL_AUTHENTICATION = connect_by_email
    existing = make_persona("ada.local", mfa=False)
    existing.email = "ada@example.org"
    existing.save()

    request, response = sign_in(
        sub="u-1", email="ADA@example.org", email_verified=verified, preferred_username="mallory", expect=409
    )

    # Not allauth's sign-up form (where any address could be typed): a page saying what to do.
    assert b"already belongs to a portal account" in response.content
    assert not request.user.is_authenticated
    assert get_user_model().objects.count() == 1
    assert not existing.socialaccount_set.exists()
    assert existing.has_usable_password()
    assert not _entries(SSO_CONNECTED)
    [refused] = _entries(SSO_REFUSED)
    assert refused.data["email"] == "ada@example.org"  # allauth keeps addresses in lower case


def _other_session_of(user: Any) -> str:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return str(client.session.session_key)


def test_losing_a_role_at_sign_in_ends_the_persons_other_sessions(make_persona: Any) -> None:
    request, _ = sign_in(sub="u-1", groups=["aws-approvers"])
    ada = get_user_model().objects.get(socialaccount__uid="u-1")
    bystander = make_persona("bob", mfa=False)
    old = _other_session_of(ada)
    theirs = _other_session_of(bystander)

    request, _ = sign_in(sub="u-1", groups=["staff"])

    assert not Session.objects.filter(session_key=old).exists()
    assert Session.objects.filter(session_key=theirs).exists()
    assert Session.objects.filter(session_key=request.session.session_key).exists()
    [ended] = _entries(SESSIONS_ENDED)
    assert ended.target_id == str(ada.pk)
    assert ended.data["sessions"] == 1
    assert "Approver" in ended.data["reason"]


def test_keeping_or_gaining_roles_ends_no_session() -> None:
    sign_in(sub="u-1", groups=["staff"])
    ada = get_user_model().objects.get(socialaccount__uid="u-1")
    old = _other_session_of(ada)

    sign_in(sub="u-1", groups=["staff", "aws-approvers"])

    assert Session.objects.filter(session_key=old).exists()
    assert not _entries(SESSIONS_ENDED)


@pytest.mark.parametrize(
    ("id_token", "trusted"),
    [
        ({"amr": ["pwd", "mfa"]}, True),
        ({"amr": ["hwk"]}, True),
        ({"amr": ["pwd"]}, False),
        ({"amr": "mfa"}, True),
        ({"acr": "http://idp.example.test/loa/2fa"}, True),
        ({"acr": "urn:example:password"}, False),
        ({}, False),
    ],
)
def test_what_the_id_token_must_say_for_the_providers_mfa_to_count(
    settings: Any, id_token: dict[str, Any], trusted: bool
) -> None:
    settings.PORTAL_SSO_MFA_ACR = ["http://idp.example.test/loa/2fa"]
    request = _request()
    with request_context(request):
        sociallogin = _sociallogin(request, {"sub": "u-1"}, id_token)
        assert (idp_asserted_mfa(sociallogin) is not None) is trusted


def test_mfa_claims_in_the_userinfo_do_not_count() -> None:
    request = _request()
    with request_context(request):
        provider = get_adapter().get_provider(request, "sso")
        sociallogin = provider.sociallogin_from_response(
            request, {"userinfo": {"sub": "u-1", "amr": ["mfa"]}, "id_token": {"sub": "u-1"}}
        )
        assert idp_asserted_mfa(sociallogin) is None


def _stage_asks_code(request: HttpRequest, user: Any, sociallogin: SocialLogin | None) -> bool:
    login = Login(user=user, signal_kwargs={"sociallogin": sociallogin} if sociallogin else None)
    stage = ProviderMfaAuthenticateStage(controller=None, request=request, login=login)
    return bool(stage._should_handle(request))


def test_the_sign_in_code_is_skipped_only_when_trusted_and_asserted(settings: Any, make_persona: Any) -> None:
    person = make_persona("grace", mfa=False)
    enrol_totp(person)
    request = _request()
    with request_context(request):
        asserted = _sociallogin(request, {"sub": "u-1"}, {"amr": ["mfa"]})
        plain = _sociallogin(request, {"sub": "u-1"}, {"amr": ["pwd"]})

        assert _stage_asks_code(request, person, asserted)  # off by default
        settings.PORTAL_SSO_TRUST_IDP_MFA = True
        assert _stage_asks_code(request, person, plain)
        assert _stage_asks_code(request, person, None)  # a password sign-in
        assert not _stage_asks_code(request, person, asserted)

    [entry] = _entries(MFA_BY_IDENTITY_PROVIDER)
    assert entry.target_id == str(person.pk)
    assert entry.data["amr"] == ["mfa"]


def test_a_password_less_sso_person_may_enrol_a_first_factor_just_after_signing_in(settings: Any) -> None:
    request, _ = sign_in(sub="u-1", groups=["staff"])
    ada = get_user_model().objects.get(socialaccount__uid="u-1")
    request.user = ada

    assert may_enrol_first_factor_now(request)

    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 60
    records = request.session["account_authentication_methods"]
    request.session["account_authentication_methods"] = [{**r, "at": time.time() - 61} for r in records]
    assert not may_enrol_first_factor_now(request)  # the sign-in is no longer fresh


def test_a_second_factor_or_a_password_means_re_authenticating_as_usual(make_persona: Any) -> None:
    request, _ = sign_in(sub="u-1", groups=["staff"])
    ada = get_user_model().objects.get(socialaccount__uid="u-1")
    request.user = ada
    enrol_totp(ada)
    assert not may_enrol_first_factor_now(request)

    local = make_persona("local", mfa=False)
    request.user = local
    assert not may_enrol_first_factor_now(request)
