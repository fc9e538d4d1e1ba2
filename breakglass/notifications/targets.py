"""What a channel's target may be (email addresses, an http(s) URL) and what pages may show of it.

A Slack or webhook URL is a secret (a Slack incoming-webhook URL embeds the token that lets anyone
post): validation messages never repeat it, and pages show only its scheme and host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from breakglass.choices import ChannelKind
from breakglass.models import NotificationChannel


def email_addresses(target: str) -> list[str]:
    """The addresses of an email channel's comma-separated target, in order, without blanks."""
    return [address.strip() for address in target.split(",") if address.strip()]


def validate_target(kind: str, target: str) -> str:
    """``target`` normalised for a channel of ``kind``, or a ValidationError saying what is wrong.

    The message never repeats the target: for Slack and webhooks it is a secret.
    """
    target = target.strip()
    if kind == ChannelKind.EMAIL:
        addresses = email_addresses(target)
        if not addresses:
            raise ValidationError("Give at least one email address.")
        validate = EmailValidator()
        for address in addresses:
            try:
                validate(address)
            except ValidationError:
                raise ValidationError(f"{address!r} is not an email address.") from None
        return ", ".join(addresses)
    if kind in (ChannelKind.SLACK, ChannelKind.WEBHOOK):
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError("Give an http:// or https:// URL.")
        if parts.username or parts.password:
            # Credentials in the URL would be sent as-is and shown nowhere; say so instead.
            raise ValidationError("The URL must not contain a user name or password.")
        if any(char.isspace() for char in target):
            raise ValidationError("The URL must not contain spaces.")
        return target
    raise ValidationError("Unknown channel kind.")


def masked_target(channel: NotificationChannel) -> str:
    """What pages may show of a target: email addresses in full, URLs as scheme and host only."""
    if channel.kind == ChannelKind.EMAIL:
        return channel.target
    return origin_of(channel.target) + "/…"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL: all that logs and error messages may name of a target."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(invalid URL)"
    return f"{parts.scheme or '?'}://{host}{port}"


__all__ = ["email_addresses", "masked_target", "origin_of", "validate_target"]
