"""django-allauth adapters: how the portal's sign-in differs from allauth's defaults.

- ``PortalAccountAdapter``: no open sign-up (accounts come from administrators or single sign-on),
  MFA first for re-authentication, failed sign-ins throttled per (person, address)
  (:mod:`breakglass.throttle`).
- ``PortalSocialAccountAdapter``: single sign-on may create the person's account (a ledger entry),
  and the sign-in's MFA step may accept the identity provider's (``breakglass.sso``).
- ``PortalMFAAdapter``: TOTP secrets and recovery-code seeds sealed with the portal's key ring.

They live in ``breakglass`` (not ``portal``) because they write the ledger, queue alerts and use the
key ring, which portal's base modules, sitting below every app, may not import.

Sealing MFA secrets: allauth stores a TOTP secret (and the seed that recovery codes are derived from)
in the ``data`` JSON of its ``Authenticator`` rows, in clear unless its adapter's ``encrypt``/
``decrypt`` hooks say otherwise. Anyone reading the database, a backup or a replica could then mint
the second factor of every approver and custodian. Here they are sealed like root passwords
(:mod:`breakglass.sealing`, AES-256-GCM envelopes under ``PORTAL_ENCRYPTION_KEYS``) and move with a
key rotation (``reencrypt_root_credentials``). The hooks see only the text, not the row, so the
envelope is bound to its purpose (``allauth-mfa``) rather than to one authenticator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.db import transaction
from django.shortcuts import render

from breakglass import sealing as sealed
from breakglass.sso import (
    login_stages,
    may_enrol_first_factor_now,
    sso_account_created_record,
    sso_address_taken,
)
from breakglass.throttle import SignInThrottleMixin
from ledger import services as ledger
from portal import policy

if TYPE_CHECKING:
    from allauth.socialaccount.models import SocialLogin
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.http import HttpRequest


# allauth ships no type hints, so its base class is Any to mypy.
class PortalAccountAdapter(SignInThrottleMixin, DefaultAccountAdapter):  # type: ignore[misc]
    """No open sign-up (accounts come from administrators or SSO); MFA first for re-authentication;
    failed sign-ins throttled per (person, address), never locking a person out (breakglass.throttle)."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_stages(self) -> list[str]:
        # allauth's MFA step, which with PORTAL_SSO_TRUST_IDP_MFA may accept the provider's.
        return login_stages(cast(list[str], super().get_login_stages()))

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        request = context.request
        if app == "allauth.mfa" and request is not None and may_enrol_first_factor_now(request):
            return False  # a single sign-on person's first factor (breakglass.sso)
        return bool(super().is_reauthentication_required(app=app, **kwargs))

    def get_reauthentication_methods(self, user: AbstractBaseUser | AnonymousUser) -> list[dict[str, Any]]:
        methods = cast(list[dict[str, Any]], super().get_reauthentication_methods(user))
        if policy.has_mfa(user):
            # A password alone must not satisfy step-up for someone who has a second factor.
            methods = [m for m in methods if str(m["id"]).startswith("mfa_")]
        return methods


# allauth ships no type hints, so its base class is Any to mypy.
class PortalSocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]
    """Single sign-on may create the person's account: the identity provider vouches for them.

    Without this, allauth asks the account adapter, whose sign-up is closed, and nobody from the
    identity provider could get in. Their roles follow the provider's groups
    (``PORTAL_SSO_GROUP_ROLES``, applied at each sign-in by ``breakglass.identity``).
    """

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # Reached only for someone the portal does not know by this provider account (nor, with
        # PORTAL_SSO_CONNECT_BY_EMAIL, by a verified address): a new account, unless the address
        # is another account's; then a page saying so instead of allauth's sign-up form.
        email = sso_address_taken(sociallogin)
        if email is not None:
            page = render(request, "socialaccount/address_taken.html", {"email": email}, status=409)
            raise ImmediateHttpResponse(page)
        return True

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> AbstractBaseUser:
        with transaction.atomic():
            user = cast("AbstractBaseUser", super().save_user(request, sociallogin, form))
            sso_account_created_record(user=user, sociallogin=sociallogin)
        return user


#: The associated data of every sealed MFA secret. Changing it makes every enrolled one unreadable.
MFA_SEAL_PURPOSE = "allauth-mfa"
REENCRYPTED_ACTION = "mfa_authenticator.reencrypted"


# allauth ships no type hints, so its base class is Any to mypy.
class PortalMFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]
    """Seals what allauth asks to encrypt; refuses to read a secret stored in clear."""

    def encrypt(self, text: str) -> str:
        return sealed.seal_text(text, purpose=MFA_SEAL_PURPOSE)

    def decrypt(self, encrypted_text: str) -> str:
        return sealed.open_text(encrypted_text, purpose=MFA_SEAL_PURPOSE)


def map_authenticator_secrets(kind: str, data: dict[str, Any], change: Callable[[str], str | None]) -> bool:
    """Apply ``change`` to each secret in an authenticator's ``data``, in place.

    ``change`` returns the new text or None to keep the old one. Returns whether anything changed.
    The secrets are the TOTP ``secret``, the recovery codes' ``seed`` and any ``migrated_codes``
    (allauth's import of codes from older versions); a WebAuthn credential holds a public key only.
    Shared by the data migration that seals existing secrets and by the key rotation.
    """
    changed = False
    fields = {"totp": ("secret",), "recovery_codes": ("seed",)}.get(kind, ())
    for field in fields:
        value = data.get(field)
        if isinstance(value, str):
            new = change(value)
            if new is not None:
                data[field] = new
                changed = True
    if kind == "recovery_codes" and isinstance(data.get("migrated_codes"), list):
        codes: list[str] = []
        for code in data["migrated_codes"]:
            new = change(code)
            codes.append(code if new is None else new)
            changed = changed or new is not None
        data["migrated_codes"] = codes
    return changed


def authenticators_reencrypt(
    *, actor: AbstractBaseUser | AnonymousUser | None = None, batch_size: int = 100
) -> int:
    """Re-seal every MFA secret not sealed under the key ring's primary key; returns how many
    authenticators changed. Batches of locked rows, each its own transaction, one ledger entry per
    authenticator (naming its owner and kind, never its data)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    sealed.keyring()  # a missing configuration fails before anything is locked

    def reseal(value: str) -> str | None:
        return sealed.reseal_text(value, purpose=MFA_SEAL_PURPOSE)

    reencrypted = 0
    last_pk = 0
    kinds = [Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    while True:
        with transaction.atomic():
            batch = list(
                Authenticator.objects.select_for_update(of=("self",))
                .select_related("user")
                .filter(type__in=kinds, pk__gt=last_pk)
                .order_by("pk")[:batch_size]
            )
            if not batch:
                break
            for authenticator in batch:
                if not map_authenticator_secrets(authenticator.type, authenticator.data, reseal):
                    continue
                authenticator.save(update_fields=["data"])
                ledger.record(
                    actor=actor,
                    action=REENCRYPTED_ACTION,
                    target=authenticator.user,
                    data={"type": authenticator.type, "to_key": sealed.keyring().primary_key_id},
                )
                reencrypted += 1
            last_pk = batch[-1].pk
    return reencrypted


__all__ = [
    "MFA_SEAL_PURPOSE",
    "PortalAccountAdapter",
    "PortalMFAAdapter",
    "PortalSocialAccountAdapter",
    "authenticators_reencrypt",
    "map_authenticator_secrets",
]
