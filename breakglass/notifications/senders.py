"""Senders: how one notification leaves the portal, one function per ChannelKind plus the email to a
person. Also the webhook signature that receivers check (:func:`verify_signature`; copy it), and the
sealed signing secret it is made with.

Webhook URLs are secrets (a Slack incoming-webhook URL embeds the token that lets anyone post), and so
is a channel's signing secret: neither ever appears in a log line, an exception message or
``Notification.last_error``. Logs name the channel instead.

Signed webhooks
---------------
Each POST carries ``X-Breakglass-Timestamp: <unix seconds>`` and
``X-Breakglass-Signature: sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<raw body>"`` under the
channel's signing secret (the string shown once when the channel was added, as UTF-8 bytes). The
timestamp is signed so a captured request cannot be replayed later than the receiver's tolerance.

Where a webhook connects
------------------------
The target's name is resolved once per message and every address checked
(``targets.resolve_webhook_target``: https only in production, never loopback, private, link-local or
metadata addresses); the connection then goes to a checked address, through urllib with an
``HTTPConnection``/``HTTPSConnection`` that is handed the address instead of resolving the name again,
while the Host header and TLS (SNI and certificate check) keep the name. Redirects are never followed,
and proxies from the environment are not used (a proxy would resolve the name itself, unchecked).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

from django.core.mail import send_mail

from breakglass import secrets as sealed
from breakglass.choices import ChannelKind
from breakglass.crypto import CryptoError
from breakglass.models import NotificationChannel
from breakglass.notifications.targets import (
    ResolvedTarget,
    TargetRefused,
    TargetUnresolvable,
    email_addresses,
    origin_of,
    resolve_webhook_target,
)

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
SIGNATURE_HEADER = "X-Breakglass-Signature"
TIMESTAMP_HEADER = "X-Breakglass-Timestamp"
USER_AGENT = "root-breakglass-portal/1"
# Enough of a receiver's answer to drain the connection politely; never stored or logged, since a
# misbehaving receiver may echo the request (and so the URL) back.
_MAX_RESPONSE_BYTES = 64 * 1024

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "DeliveryError",
    "Message",
    "PermanentDeliveryError",
    "open_signing_secret",
    "seal_signing_secret",
    "send_channel",
    "send_email",
    "sign",
    "signing_secret_aad",
    "slack_text",
    "verify_signature",
]


class DeliveryError(Exception):
    """A message could not be delivered; retrying may help. The message is safe to store and log:
    it names at most the scheme and host of the target, never its path, query or any secret."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help (no address, channel misconfigured, secret unreadable): fail now."""


# --- Signing secrets ------------------------------------------------------------------------


def signing_secret_aad(channel: NotificationChannel) -> bytes:
    # Binds the sealed secret to this channel, as root passwords are bound to their credential.
    return f"notification-channel:{channel.uuid}".encode()


def seal_signing_secret(*, channel: NotificationChannel, secret: str) -> None:
    """Encrypt ``secret`` onto ``channel`` under the keyring's primary key. The caller saves."""
    if not secret:
        raise ValueError("a signing secret cannot be empty")
    channel.signing_secret = sealed.keyring().encrypt(secret.encode("utf-8"), aad=signing_secret_aad(channel))


def open_signing_secret(channel: NotificationChannel) -> bytes:
    """The channel's HMAC key (the shown string as UTF-8 bytes)."""
    if channel.signing_secret is None:
        raise PermanentDeliveryError(f"channel {channel.name!r} has no signing secret")
    try:
        # PostgreSQL hands BinaryField values back as memoryview.
        return sealed.keyring().decrypt(bytes(channel.signing_secret), aad=signing_secret_aad(channel))
    except CryptoError as error:
        # CryptoError messages never hold key material; still, keep only the class name.
        raise PermanentDeliveryError(
            f"the signing secret of channel {channel.name!r} cannot be opened ({type(error).__name__}); "
            "check PORTAL_ENCRYPTION_KEYS"
        ) from None


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``"<timestamp>.<body>"``."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """Whether a webhook request is authentic and fresh. For receivers; standard library only.

    ``body`` must be the raw bytes received (not re-serialised JSON). Requests whose timestamp is
    more than ``tolerance_seconds`` away from ``now`` are refused, so a captured request cannot be
    replayed later. The comparison takes constant time.
    """
    if not isinstance(timestamp, str) or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if not isinstance(signature, str) or not signature.isascii():
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_seconds:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii"))


# --- Senders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """What a sender needs: the rendered text and, for JSON webhooks, the payload without
    ``sent_at`` (added at send time so it says when this attempt left)."""

    subject: str
    body: str
    payload: Mapping[str, Any] | None = None


def send_email(*, to: list[str], message: Message) -> None:
    """One email through Django's configured backend (console in development)."""
    if not to:
        raise PermanentDeliveryError("no email address to send to")
    try:
        send_mail(message.subject, message.body, None, to, fail_silently=False)
    except (OSError, ValueError) as error:
        # smtplib's errors are OSErrors; their text is the server's answer, which holds addresses
        # at most, never a password. Cut it short anyway.
        detail = f"{type(error).__name__}: {error}"
        raise DeliveryError(f"the mail server refused the message ({detail})"[:300]) from None


def send_channel(channel: NotificationChannel, message: Message) -> None:
    """Deliver ``message`` to ``channel`` by its kind. Raises DeliveryError on failure."""
    if channel.kind == ChannelKind.EMAIL:
        send_email(to=email_addresses(channel.target), message=message)
    elif channel.kind == ChannelKind.SLACK:
        _send_slack(channel, message)
    elif channel.kind == ChannelKind.WEBHOOK:
        _send_webhook(channel, message)
    else:
        raise PermanentDeliveryError(f"channel {channel.name!r} has an unknown kind {channel.kind!r}")


def slack_text(message: Message) -> str:
    """Slack's mrkdwn: the subject in bold, then the body; ``&``, ``<`` and ``>`` escaped as Slack
    asks, so a justification cannot smuggle in ``<!channel>`` mentions or links."""

    def escape(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    return f"*{escape(message.subject)}*\n{escape(message.body)}"


def _send_slack(channel: NotificationChannel, message: Message) -> None:
    body = json.dumps({"text": slack_text(message)}).encode("utf-8")
    _post(channel, body, headers={})


def _send_webhook(channel: NotificationChannel, message: Message) -> None:
    if message.payload is None:
        raise PermanentDeliveryError(f"no payload for webhook channel {channel.name!r}")
    secret = open_signing_secret(channel)
    timestamp = str(int(time.time()))
    payload = {**message.payload, "sent_at": timestamp_iso(int(timestamp))}
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    _post(
        channel,
        body,
        headers={TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)},
    )


def timestamp_iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would carry a signed payload to a place nobody configured and nobody checked (the
    # metadata service, say), or turn the POST into a GET and lose it; a webhook that redirects is
    # misconfigured, so the 3xx comes back as an error.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _connect_checked(addresses: tuple[str, ...], port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the first of the checked ``addresses`` that answers (as
    ``socket.create_connection`` tries each address a name resolves to)."""
    failure: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as error:
            failure = error
    raise failure


class _CheckedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address checked by ``resolve_webhook_target`` instead of resolving the name
    again; the request's Host header still names the host."""

    def __init__(self, host: str, *, target: ResolvedTarget, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._target = target

    def connect(self) -> None:
        self.sock = _connect_checked(self._target.addresses, self._target.port, self.timeout)


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    """As :class:`_CheckedHTTPConnection`, then TLS with the name as SNI and for the certificate check."""

    def __init__(self, host: str, *, target: ResolvedTarget, context: ssl.SSLContext, **kwargs: Any) -> None:
        super().__init__(host, context=context, **kwargs)
        self._target = target
        self._tls = context

    def connect(self) -> None:
        sock = _connect_checked(self._target.addresses, self._target.port, self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self._target.host)
        except BaseException:
            sock.close()
            raise


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, target: ResolvedTarget) -> None:
        super().__init__()
        self._target = target

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_CheckedHTTPConnection, target=self._target), req)


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, target: ResolvedTarget) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(context=self._tls)
        self._target = target

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            functools.partial(_CheckedHTTPSConnection, target=self._target, context=self._tls), req
        )


def _opener_for(target: ResolvedTarget) -> urllib.request.OpenerDirector:
    """An opener bound to one checked target: no proxy, no redirects, and only the checked addresses."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        _NoRedirects(),
        _CheckedHTTPHandler(target),
        _CheckedHTTPSHandler(target),
    )


def _post(channel: NotificationChannel, body: bytes, *, headers: dict[str, str]) -> None:
    url = channel.target
    origin = origin_of(url)
    try:
        # Resolved and checked here, at send time: the name may answer differently than when the
        # channel was saved. Only the addresses checked now are connected to.
        target = resolve_webhook_target(url)
    except TargetRefused as refusal:
        _fail(channel, f"refused to send to {origin}: {refusal}", permanent=True)
    except TargetUnresolvable:
        _fail(channel, f"{origin} could not be resolved", permanent=False)
    except ValueError:
        _fail(channel, f"channel target is not a valid URL ({origin})", permanent=True)
    request = urllib.request.Request(  # noqa: S310 (scheme checked by resolve_webhook_target)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with _opener_for(target).open(request, timeout=TIMEOUT_SECONDS) as response:
            response.read(_MAX_RESPONSE_BYTES)
            status = response.status
    except urllib.error.HTTPError as error:
        error.close()
        if 300 <= error.code < 400:
            # Never followed (see _NoRedirects), and retrying gets the same answer.
            _fail(
                channel,
                f"{origin} answered HTTP {error.code}, a redirect, which is not followed",
                permanent=True,
            )
        # A 4xx other than "too many" or "timeout" means the receiver refuses this request as such
        # (revoked Slack token, wrong secret on the receiver): retrying for half an hour only hides it.
        permanent = 400 <= error.code < 500 and error.code not in (408, 425, 429)
        _fail(channel, f"{origin} answered HTTP {error.code}", permanent=permanent)
    except urllib.error.URLError as error:
        _fail(channel, f"{origin} could not be reached ({_reason(error.reason)})", permanent=False)
    except (TimeoutError, OSError) as error:
        _fail(channel, f"{origin} could not be reached ({_reason(error)})", permanent=False)
    except ValueError:
        _fail(channel, f"channel target is not a valid URL ({origin})", permanent=True)
    if not 200 <= status < 300:
        _fail(channel, f"{origin} answered HTTP {status}", permanent=False)
    logger.info("notification delivered to channel %r (%s)", channel.name, channel.kind)


def _reason(reason: object) -> str:
    # Socket errors name an errno and a strerror, never the URL; other reasons are shown by class
    # only, since their text is not ours to vouch for.
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return str(reason.strerror)
    return type(reason).__name__


def _fail(channel: NotificationChannel, message: str, *, permanent: bool) -> NoReturn:
    logger.warning("notification to channel %r (%s) failed: %s", channel.name, channel.kind, message)
    raise (PermanentDeliveryError if permanent else DeliveryError)(message)
