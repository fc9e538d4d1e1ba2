"""Single sign-on: what happens when a person arrives from an identity provider.

At every single sign-on (:func:`sso_sign_in`, from the ``user_logged_in`` receiver in
``breakglass.identity_events``) the person's name and address follow the provider's, their roles
follow its groups (:func:`breakglass.identity.sso_roles_apply`), and if they lost a role, their
other sessions end (:func:`person_sessions_end`): a session opened while they were still an
approver must not outlive the decision to take that away. Each change is a ledger entry.

A person new to the portal gets an account (the social-account adapter lets single sign-on sign
up, :func:`sso_account_created_record` writes it down), or, with ``PORTAL_SSO_CONNECT_BY_EMAIL``,
is connected to the account with the address the provider verified (:func:`sso_account_connected_record`).

The second factor at sign-in: :class:`ProviderMfaAuthenticateStage` replaces allauth's MFA stage
and, only when ``PORTAL_SSO_TRUST_IDP_MFA`` is on and the provider's ID token says it checked a
second factor (``amr``/``acr``), accepts that instead of asking the portal's own. Step-up never
does (``portal.identity.recently_stepped_up`` counts only the portal's own MFA).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.stages import AuthenticateStage
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from breakglass.identity import (
    NO_AUTHORITY,
    USER_CREATED,
    authority_of,
    provider_kind,
    sso_roles_apply,
    user_authority_record,
)
from ledger import services as ledger
from portal import policy

if TYPE_CHECKING:
    from allauth.socialaccount.models import SocialLogin
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

PROFILE_UPDATED = "user.profile_updated"
SSO_CONNECTED = "user.sso_connected"
SESSIONS_ENDED = "user.sessions_ended"
SSO_REFUSED = "auth.sso_refused"
MFA_BY_IDENTITY_PROVIDER = "auth.mfa_by_identity_provider"
#: The fields of a person the identity provider decides, at every sign-in.
PROFILE_FIELDS = ("first_name", "last_name", "email")


def _source(sociallogin: SocialLogin) -> str:
    return f"single sign-on ({sociallogin.account.provider})"


def provider_claims(sociallogin: SocialLogin) -> dict[str, Any]:
    """The OpenID Connect claims allauth kept: the ID token's, then the userinfo's over them."""
    extra: Mapping[str, Any] = sociallogin.account.extra_data or {}
    claims: dict[str, Any] = {}
    for part in ("id_token", "userinfo"):
        if isinstance(extra.get(part), Mapping):
            claims.update(extra[part])
    return claims


def provider_profile(sociallogin: SocialLogin) -> dict[str, str]:
    """First name, last name and e-mail address as the identity provider states them now."""
    extra: Mapping[str, Any] = sociallogin.account.extra_data or {}
    found: dict[str, str] = {}
    if provider_kind(sociallogin) == "saml":
        # SAML: each attribute is a list; the first present name of each field wins.
        for field, names in settings.SAML_ATTRIBUTE_MAPPING.items():
            for name in names:
                values = extra.get(name)
                if isinstance(values, list) and values and str(values[0]).strip():
                    found[field] = str(values[0]).strip()
                    break
    else:
        claims = provider_claims(sociallogin)
        given, _, family = str(claims.get("name") or "").strip().partition(" ")
        found = {
            "first_name": str(claims.get("given_name") or given).strip(),
            "last_name": str(claims.get("family_name") or family).strip(),
            "email": str(claims.get("email") or "").strip(),
        }
    return {field: found[field][:150] for field in PROFILE_FIELDS if found.get(field)}


def sso_account_created_record(*, user: AbstractBaseUser, sociallogin: SocialLogin) -> None:
    """Write down that single sign-on created ``user`` (called by the adapter, after the save)."""
    user_authority_record(
        actor=None,
        user=user,
        before=NO_AUTHORITY,
        source=_source(sociallogin),
        action=USER_CREATED,
        data={"email": getattr(user, "email", ""), "uid": sociallogin.account.uid},
    )


def sso_address_taken(sociallogin: SocialLogin) -> str | None:
    """The provider's address when another portal account already has it, else None.

    Without this, allauth would offer a sign-up form on which the person types any other address
    and user name: the portal takes a person's identity from the provider, not from a form. The
    attempt is a ledger entry (someone may be trying to reach another person's account).
    """
    for address in sociallogin.email_addresses:
        if get_user_model().objects.filter(email__iexact=address.email).exists():
            ledger.record(
                actor=None,
                action=SSO_REFUSED,
                data={
                    "reason": "address in use by another account",
                    "source": _source(sociallogin),
                    "uid": sociallogin.account.uid,
                    "email": address.email,
                },
            )
            return str(address.email)
    return None


def sso_account_connected_record(*, user: AbstractBaseUser, sociallogin: SocialLogin) -> None:
    """Write down that an existing account now signs in through the identity provider."""
    ledger.record(
        actor=None,
        action=SSO_CONNECTED,
        target=user,
        data={
            "user": user.get_username(),
            "source": _source(sociallogin),
            "uid": sociallogin.account.uid,
            "email": getattr(user, "email", ""),
            "local_password_kept": user.has_usable_password(),
        },
    )


def sso_profile_update(*, user: AbstractBaseUser, sociallogin: SocialLogin) -> bool:
    """Make the person's name and address the identity provider's; returns whether any changed.

    Fields the provider leaves out are kept as they are.
    """
    wanted = provider_profile(sociallogin)
    changes = {
        field: {"from": getattr(user, field), "to": value}
        for field, value in wanted.items()
        if getattr(user, field) != value
    }
    if not changes:
        return False
    for field, change in changes.items():
        setattr(user, field, change["to"])
    user.save(update_fields=list(changes))
    ledger.record(
        actor=None,
        action=PROFILE_UPDATED,
        target=user,
        data={"user": user.get_username(), "source": _source(sociallogin), "changes": changes},
    )
    return True


def person_sessions_end(*, user: AbstractBaseUser, keep_session_key: str | None, reason: str) -> int:
    """End every session of ``user`` except ``keep_session_key``; returns how many ended.

    Sessions live in the database (Django's default engine); the person's id is inside each one's
    encoded data, so the live ones are read. The portal has few sessions at a time (people, not
    machines), which keeps this cheap.
    """
    person = str(user.pk)
    ended = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.session_key != keep_session_key and session.get_decoded().get(SESSION_KEY) == person
    ]
    if not ended:
        return 0
    Session.objects.filter(session_key__in=ended).delete()
    ledger.record(
        actor=None,
        action=SESSIONS_ENDED,
        target=user,
        data={"user": user.get_username(), "sessions": len(ended), "reason": reason},
    )
    return len(ended)


def sso_sign_in(*, request: HttpRequest, user: AbstractBaseUser, sociallogin: SocialLogin) -> None:
    """Everything a single sign-on changes about the person, in one transaction."""
    with transaction.atomic():
        sso_profile_update(user=user, sociallogin=sociallogin)
        before = authority_of(user)
        sso_roles_apply(user=user, sociallogin=sociallogin)
        lost = before.roles - authority_of(user).roles
        if lost:
            person_sessions_end(
                user=user,
                keep_session_key=request.session.session_key,
                reason="lost role at single sign-on: " + ", ".join(sorted(role.value for role in lost)),
            )


# --- The second factor at sign-in ---------------------------------------------------------------


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value] if isinstance(value, Iterable) else []


def idp_asserted_mfa(sociallogin: SocialLogin) -> dict[str, Any] | None:
    """The ID token's ``amr``/``acr`` when they say the provider checked a second factor, else None.

    Only the ID token counts (it is signed by the provider and bound to this sign-in); SAML
    assertions are not read for this.
    """
    extra: Mapping[str, Any] = sociallogin.account.extra_data or {}
    id_token = extra.get("id_token")
    if not isinstance(id_token, Mapping) or provider_kind(sociallogin) == "saml":
        return None
    amr = _as_list(id_token.get("amr"))
    acr = str(id_token.get("acr") or "")
    if set(amr) & set(settings.PORTAL_SSO_MFA_AMR) or (acr and acr in settings.PORTAL_SSO_MFA_ACR):
        return {"amr": amr, "acr": acr}
    return None


# allauth ships no type hints, so its base class is Any to mypy.
class ProviderMfaAuthenticateStage(AuthenticateStage):  # type: ignore[misc]
    """allauth's "enter your code" step at sign-in, which a single sign-on may skip when the
    administrator trusts the identity provider's MFA (``PORTAL_SSO_TRUST_IDP_MFA``) and its ID token
    asserts one. The skip is a ledger entry; the portal's own factor is still asked at step-up."""

    def _should_handle(self, request: HttpRequest) -> bool:
        if not super()._should_handle(request):
            return False
        sociallogin = (self.login.signal_kwargs or {}).get("sociallogin")
        if not settings.PORTAL_SSO_TRUST_IDP_MFA or sociallogin is None:
            return True
        asserted = idp_asserted_mfa(sociallogin)
        if asserted is None:
            return True
        ledger.record(
            actor=None,
            action=MFA_BY_IDENTITY_PROVIDER,
            target=self.login.user,
            data={"source": _source(sociallogin), **asserted},
        )
        return False


def may_enrol_first_factor_now(request: HttpRequest) -> bool:
    """Whether the person may set up their first second factor without re-authenticating first.

    allauth asks for a re-authentication (password, e-mailed code or MFA) before any change to a
    person's factors. Someone who signs in only through the identity provider has no password and
    no factor yet, so the only way left would be an e-mailed code: instead their single sign-on
    counts, if it happened in this session within the step-up window. Later changes to their
    factors re-authenticate with the factor they have.
    """
    user = request.user
    if not user.is_authenticated or user.has_usable_password() or policy.has_mfa(user):
        return False
    since = time.time() - settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    return any(
        record.get("method") == "socialaccount" and float(record.get("at", 0)) >= since
        for record in get_authentication_records(request, user)
    )


def login_stages(stages: list[str]) -> list[str]:
    """allauth's sign-in stages with its MFA step replaced by :class:`ProviderMfaAuthenticateStage`."""
    theirs = f"{AuthenticateStage.__module__}.{AuthenticateStage.__qualname__}"
    ours = f"{ProviderMfaAuthenticateStage.__module__}.{ProviderMfaAuthenticateStage.__qualname__}"
    return [ours if stage == theirs else stage for stage in stages]


__all__ = [
    "MFA_BY_IDENTITY_PROVIDER",
    "PROFILE_UPDATED",
    "SESSIONS_ENDED",
    "SSO_CONNECTED",
    "SSO_REFUSED",
    "ProviderMfaAuthenticateStage",
    "idp_asserted_mfa",
    "login_stages",
    "may_enrol_first_factor_now",
    "person_sessions_end",
    "provider_profile",
    "sso_account_connected_record",
    "sso_account_created_record",
    "sso_address_taken",
    "sso_profile_update",
    "sso_sign_in",
]
