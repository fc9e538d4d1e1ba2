"""Who signed in, who failed to, whose second factor or password changed: ledger entries.

Receivers of Django's and allauth's authentication signals, connected by ``BreakglassConfig.ready``.
Each writes one ledger entry with the person as actor (or the system, for a failed attempt, which
proves nobody) and the request id the middleware gave the request. The entries never hold a
password, a TOTP secret, a code or a reset link: only who, what kind, and by which method.

A single sign-on also takes the person's name, address and roles from the identity provider, at
every sign-in (:func:`breakglass.sso.sso_sign_in`); an account connected to a provider is an entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from allauth.socialaccount import signals as social_signals
from django.contrib.auth import get_user_model
from django.contrib.auth import signals as auth_signals
from django.db.models import Q

from breakglass.sso import sso_account_connected_record, sso_sign_in
from ledger import services as ledger

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

SIGNED_IN = "auth.signed_in"
SIGNED_OUT = "auth.signed_out"
SIGN_IN_FAILED = "auth.sign_in_failed"
MFA_FAILED = "auth.mfa_failed"
PASSWORD_CHANGED = "auth.password_changed"
PASSWORD_SET = "auth.password_set"
PASSWORD_RESET = "auth.password_reset"
AUTHENTICATOR_ADDED = "mfa.authenticator_added"
AUTHENTICATOR_REMOVED = "mfa.authenticator_removed"
AUTHENTICATOR_RESET = "mfa.authenticator_reset"

# The credential keys allauth and Django pass to authenticate() that name the person.
_LOGIN_KEYS = ("username", "email", "login")


def _on_signed_in(sender: Any, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    method = f"sso:{sociallogin.account.provider}" if sociallogin is not None else "password"
    ledger.record(actor=user, action=SIGNED_IN, target=user, data={"method": method})
    if sociallogin is not None:
        sso_sign_in(request=request, user=user, sociallogin=sociallogin)


def _on_social_account_added(sender: Any, request: HttpRequest, sociallogin: Any, **kwargs: Any) -> None:
    sso_account_connected_record(user=sociallogin.user, sociallogin=sociallogin)


def _on_signed_out(sender: Any, request: HttpRequest, user: AbstractBaseUser | None, **kwargs: Any) -> None:
    if user is not None:
        ledger.record(actor=user, action=SIGNED_OUT, target=user)


def _on_sign_in_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Only a name that matches an account is written down: people type their password into the
    # name field, and what matches nobody may be exactly that.
    typed = [str(credentials[key]) for key in _LOGIN_KEYS if credentials.get(key)]
    match = Q(pk__in=[])
    for value in typed:
        match |= Q(username__iexact=value) | Q(email__iexact=value)
    person = get_user_model().objects.filter(match).order_by("pk").first() if typed else None
    if person is None:
        ledger.record(actor=None, action=SIGN_IN_FAILED, data={"known_account": False})
    else:
        ledger.record(actor=None, action=SIGN_IN_FAILED, target=person, data={"known_account": True})


def _on_mfa_failed(sender: Any, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> None:
    authenticator = kwargs.get("authenticator")
    ledger.record(
        actor=None,
        action=MFA_FAILED,
        target=user,
        data={
            "type": getattr(authenticator, "type", ""),
            "reauthentication": bool(kwargs.get("reauthentication", False)),
        },
    )


def _authenticator_event(action: str) -> Any:
    def receiver(sender: Any, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> None:
        authenticator = kwargs.get("authenticator")
        # The kind only: an authenticator's data holds its secret (sealed, but still not for auditors).
        ledger.record(
            actor=user, action=action, target=user, data={"type": getattr(authenticator, "type", "")}
        )

    return receiver


def _password_event(action: str) -> Any:
    def receiver(sender: Any, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> None:
        ledger.record(actor=user, action=action, target=user)

    return receiver


# Module-level references: signals hold receivers weakly, and these closures must stay alive.
_RECEIVERS = {
    AUTHENTICATOR_ADDED: _authenticator_event(AUTHENTICATOR_ADDED),
    AUTHENTICATOR_REMOVED: _authenticator_event(AUTHENTICATOR_REMOVED),
    AUTHENTICATOR_RESET: _authenticator_event(AUTHENTICATOR_RESET),
    PASSWORD_CHANGED: _password_event(PASSWORD_CHANGED),
    PASSWORD_SET: _password_event(PASSWORD_SET),
    PASSWORD_RESET: _password_event(PASSWORD_RESET),
}


def connect() -> None:
    """Connect every receiver (idempotent: each has a ``dispatch_uid``)."""
    # allauth's user_logged_in, not Django's: it fires once the whole sign-in is done (after the
    # second factor) and says whether it was a single sign-on; Django's also fires for test logins.
    account_signals.user_logged_in.connect(_on_signed_in, dispatch_uid="ledger-signed-in")
    social_signals.social_account_added.connect(_on_social_account_added, dispatch_uid="ledger-sso-connected")
    auth_signals.user_logged_out.connect(_on_signed_out, dispatch_uid="ledger-signed-out")
    auth_signals.user_login_failed.connect(_on_sign_in_failed, dispatch_uid="ledger-sign-in-failed")
    mfa_signals.authentication_failed.connect(_on_mfa_failed, dispatch_uid="ledger-mfa-failed")
    mfa_signals.authenticator_added.connect(_RECEIVERS[AUTHENTICATOR_ADDED], dispatch_uid="ledger-mfa-added")
    mfa_signals.authenticator_removed.connect(
        _RECEIVERS[AUTHENTICATOR_REMOVED], dispatch_uid="ledger-mfa-removed"
    )
    mfa_signals.authenticator_reset.connect(_RECEIVERS[AUTHENTICATOR_RESET], dispatch_uid="ledger-mfa-reset")
    account_signals.password_changed.connect(
        _RECEIVERS[PASSWORD_CHANGED], dispatch_uid="ledger-password-changed"
    )
    account_signals.password_set.connect(_RECEIVERS[PASSWORD_SET], dispatch_uid="ledger-password-set")
    account_signals.password_reset.connect(_RECEIVERS[PASSWORD_RESET], dispatch_uid="ledger-password-reset")


__all__ = [
    "AUTHENTICATOR_ADDED",
    "AUTHENTICATOR_REMOVED",
    "AUTHENTICATOR_RESET",
    "MFA_FAILED",
    "PASSWORD_CHANGED",
    "PASSWORD_RESET",
    "PASSWORD_SET",
    "SIGNED_IN",
    "SIGNED_OUT",
    "SIGN_IN_FAILED",
    "connect",
]
