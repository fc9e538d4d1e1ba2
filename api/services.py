"""Every write about personal API tokens, and the check of a presented token.

A token is ``bgp_<prefix>_<secret>``: the prefix (public, unique) finds the row, and the SHA-256 of
the whole token is compared with the stored digest in constant time. Creation, revocation and each
use of a ledgered scope are ledger entries; the token itself is never written anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.choices import LEDGERED_SCOPES, Scope
from api.models import ApiToken
from api.scopes import scopes_available
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError
from portal.validators import check_plain_names, check_text_lengths

if TYPE_CHECKING:
    from django.contrib.auth.models import User

TOKEN_KIND = "bgp"
#: The last use is written at most this often, not on every call.
LAST_USE_RESOLUTION = timedelta(seconds=60)


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def latest_token_expiry() -> datetime:
    """The furthest a new token may run (``PORTAL_API_TOKEN_MAX_DAYS``)."""
    return timezone.now() + timedelta(days=settings.PORTAL_API_TOKEN_MAX_DAYS)


@dataclass(frozen=True)
class NewToken:
    """A token just made: the row, and the token itself, to be shown once and then forgotten."""

    token: ApiToken
    plaintext: str


def api_token_create(*, user: User, name: str, scopes: list[str], expires_at: datetime) -> NewToken:
    """A person makes a token for their own use, with scopes their roles allow today."""
    name = name.strip()
    check_plain_names({"name": name})
    check_text_lengths({"name": name}, limits={"name": 100})
    errors: dict[str, str] = {}
    if not policy.may_use_portal(user):
        raise DomainError("Only people with a role in the portal and MFA can make API tokens.")
    if not name:
        errors["name"] = "Name the token after what will use it."
    allowed = set(scopes_available(user))
    wanted = sorted(set(scopes))
    if not wanted:
        errors["scopes"] = "Choose at least one scope."
    elif not set(wanted) <= allowed:
        refused = ", ".join(sorted(set(wanted) - allowed))
        errors["scopes"] = f"Your roles do not allow {refused}."
    if expires_at <= timezone.now():
        errors["expires_at"] = "The expiry must be in the future."
    elif expires_at > latest_token_expiry():
        errors["expires_at"] = f"A token runs at most {settings.PORTAL_API_TOKEN_MAX_DAYS} days."
    if errors:
        raise DomainError(errors)
    prefix = secrets.token_hex(6)
    plaintext = f"{TOKEN_KIND}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            digest=digest_of(plaintext),
            scopes=wanted,
            expires_at=expires_at,
        )
        ledger.record(
            actor=user,
            action="api_token.created",
            target=token,
            data={"prefix": prefix, "name": name, "scopes": wanted, "expires_at": expires_at.isoformat()},
        )
    return NewToken(token=token, plaintext=plaintext)


def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """The token's person (or an administrator) ends it at once. Revoking twice changes nothing."""
    if token.user_id != actor.pk and not policy.may_manage_inventory(actor):
        raise DomainError("Only the token's owner or an administrator can revoke it.")
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
        ledger.record(
            actor=actor,
            action="api_token.revoked",
            target=locked,
            data={"prefix": locked.prefix, "name": locked.name, "owner": locked.user.get_username()},
        )
    return locked


class TokenRefusedError(Exception):
    """The presented token does not authenticate anyone; the message says why, safely."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_UNKNOWN = "The token is not valid."


def api_token_authenticate(*, presented: str) -> ApiToken:
    """The live token behind ``presented``, with its person loaded fresh, or ``TokenRefusedError``.

    Only someone holding the real token learns that it expired or was revoked: the reason is given
    after the digest matched.
    """
    kind, _, rest = presented.partition("_")
    prefix, _, secret = rest.partition("_")
    if kind != TOKEN_KIND or not prefix or not secret:
        raise TokenRefusedError(_UNKNOWN)
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    # Compared even when no row was found, so a wrong prefix costs the same as a wrong secret.
    expected = token.digest if token is not None else digest_of("")
    if not hmac.compare_digest(expected, digest_of(presented)) or token is None:
        raise TokenRefusedError(_UNKNOWN)
    if token.revoked_at is not None:
        raise TokenRefusedError("The token was revoked.")
    if token.is_expired:
        raise TokenRefusedError("The token expired.")
    if not token.user.is_active:
        raise TokenRefusedError("The token's owner is no longer active.")
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Remember when the token was last used (to the minute: one write a minute at most)."""
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USE_RESOLUTION)
    ).update(last_used_at=now)


def api_token_record_use(*, token: ApiToken, scope: Scope, method: str, path: str) -> None:
    """The ledger entry of a call that uses a ledgered scope, committed before the call acts: a call
    whose entry cannot be written does not happen. The change itself writes its own entry with the
    same request id, so an auditor sees both the token and what it did."""
    if scope not in LEDGERED_SCOPES:
        return
    with transaction.atomic():
        ledger.record(
            actor=token.user,
            action="api_token.used",
            target=token,
            data={"prefix": token.prefix, "name": token.name, "scope": scope, "method": method, "path": path},
        )
