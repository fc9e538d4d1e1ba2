"""Sign-in throttling that nobody can turn into a lock-out of someone else.

allauth's own limits count failures per user name (passwords) and per user (MFA codes) from any
address: anyone who knows an approver's user name could keep the approver out indefinitely, which
in a break-glass tool disables the approvers in exactly the emergency. Here instead:

- allauth's ``login_failed`` counts attempts per client address only (``ACCOUNT_RATE_LIMITS``),
  in tiers that back off from a minute to hours for a sustained burst;
- the portal's ``login_failed_person_address`` counts failures per (person, client address),
  for passwords in the account adapter and for MFA codes in the MFA forms, so guessing from one
  address never slows the person down anywhere else;
- a burst (``PORTAL_SIGNIN_BURST_FAILURES`` failures within ten minutes, from one address or
  against one person from anywhere) is a ledger entry and an alert to the administrators.

The client address is allauth's (``ALLAUTH_TRUSTED_PROXY_COUNT``, from
``PORTAL_TRUSTED_PROXY_COUNT``). All counters live in the shared cache, like allauth's.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any, cast

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core import context, ratelimit
from allauth.core.internal import ratelimit as allauth_ratelimit
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction

from breakglass.notifications import outbox
from ledger import services as ledger

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

logger = logging.getLogger(__name__)

#: The portal's rate-limit action (configured in ``ACCOUNT_RATE_LIMITS``): failures per (person, address).
PERSON_ADDRESS_ACTION = "login_failed_person_address"
#: Ledger action of a burst of failed sign-ins.
BURST_ACTION = "signin.burst"
BURST_WINDOW_SECONDS = 10 * 60
_LOGIN_SHOWN = 100  # characters of a typed user name kept in alerts and the ledger (its target_id)


def client_address(request: HttpRequest) -> str:
    """The client's address as allauth's rate limits see it (trusted proxies taken into account)."""
    return str(get_account_adapter(request).get_client_ip(request))


def _person_address_key(kind: str, person: str, request: HttpRequest) -> str:
    return f"{kind}:{person.lower()}|{client_address(request)}"


def _allows(request: HttpRequest, key: str) -> bool:
    """Whether another attempt is allowed for ``key`` (without counting one)."""
    return bool(ratelimit.consume(request, action=PERSON_ADDRESS_ACTION, key=key, dry_run=True))


def _too_many() -> ValidationError:
    return cast(ValidationError, get_account_adapter().validation_error("too_many_login_attempts"))


def record_failure(request: HttpRequest, *, kind: str, login: str, key: str) -> None:
    """Count one failed sign-in (``kind``: password or mfa) and alert when it completes a burst."""
    ratelimit.consume(request, action=PERSON_ADDRESS_ACTION, key=key)
    # What was typed as the user name is the attacker's text: bounded before it goes anywhere.
    login = login[:_LOGIN_SHOWN]
    address = client_address(request)
    rate = f"{settings.PORTAL_SIGNIN_BURST_FAILURES - 1}/{BURST_WINDOW_SECONDS}s/key"
    config = {"burst": rate}
    for scope, subject in (("address", address), ("person", login.lower())):
        # allauth's limiter is the counter: "not allowed" means this failure is one too many.
        under = _count(request, config=config, key=f"burst:{scope}:{subject}")
        if not under:
            _alert_once(scope=scope, subject=subject, address=address, login=login, kind=kind)


def _count(request: HttpRequest, *, config: dict[str, str], key: str) -> bool:
    """allauth's sliding-window counter with an explicit rate (not one from the settings)."""
    return bool(
        allauth_ratelimit.consume(request, app="allauth.account", action="burst", config=config, key=key)
    )


def _alert_once(*, scope: str, subject: str, address: str, login: str, kind: str) -> None:
    # One alert per window and subject: a burst of a thousand failures is one message, not a thousand.
    flag = hashlib.sha256(f"{scope}:{subject}".encode()).hexdigest()
    if not cache.add(f"portal:signin-burst-alerted:{flag}", True, timeout=BURST_WINDOW_SECONDS):
        return
    threshold = settings.PORTAL_SIGNIN_BURST_FAILURES
    minutes = BURST_WINDOW_SECONDS // 60
    if scope == "address":
        summary = f"{threshold} or more failed sign-ins within {minutes} minutes from {address}."
    else:
        summary = (
            f"{threshold} or more failed sign-ins within {minutes} minutes for the user name "
            f"{login!r}, from one or more addresses (the last one {address})."
        )
    summary += (
        " The portal slows these attempts down; it does not lock anyone out. Check whether someone "
        "is guessing passwords or MFA codes."
    )
    data = {"scope": scope, "address": address, "login": login, "kind": kind, "threshold": threshold}
    logger.warning("sign-in burst: %s", summary)
    with transaction.atomic():
        ledger.record(
            actor=None,
            action=BURST_ACTION,
            target_type="address" if scope == "address" else "login",
            target_id=subject,
            target_repr=subject,
            data=data,
        )
        outbox.queue_alert(
            finding_summary=summary,
            subject=f"failed sign-ins ({'address ' + address if scope == 'address' else 'user ' + login})",
            account=None,
            payload={"kind": BURST_ACTION, **data},
        )


class SignInThrottleMixin:
    """For the account adapter: password failures count per (user name, address), not per user name."""

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        super().pre_authenticate(request, **credentials)  # type: ignore[misc]
        if not _allows(request, _password_key(request, credentials)):
            raise _too_many()

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        super().authentication_failed(request, **credentials)  # type: ignore[misc]
        record_failure(
            request, kind="password", login=_login(credentials), key=_password_key(request, credentials)
        )


def _login(credentials: dict[str, Any]) -> str:
    return str(credentials.get("email") or credentials.get("username") or "")


def _password_key(request: HttpRequest, credentials: dict[str, Any]) -> str:
    return _person_address_key("password", _login(credentials), request)


class _ThrottledCodeMixin:
    """For allauth's MFA code forms: wrong codes count per (person, address), not per person."""

    user: AbstractBaseUser

    def clean_code(self) -> str:
        request = context.request
        key = _person_address_key("mfa", str(self.user.pk), request)
        if not _allows(request, key):
            raise _too_many()
        try:
            return str(super().clean_code())  # type: ignore[misc]
        except ValidationError:
            record_failure(request, kind="mfa", login=self.user.get_username(), key=key)
            raise


class ThrottledAuthenticateForm(_ThrottledCodeMixin, AuthenticateForm):  # type: ignore[misc]
    """The MFA prompt at sign-in (``MFA_FORMS["authenticate"]``)."""


class ThrottledReauthenticateForm(_ThrottledCodeMixin, ReauthenticateForm):  # type: ignore[misc]
    """The MFA prompt at step-up (``MFA_FORMS["reauthenticate"]``)."""
