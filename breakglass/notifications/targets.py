"""What a channel's target may be (email addresses, an http(s) URL), where a webhook may go, and what
pages may show of a target.

A Slack or webhook URL is a secret (a Slack incoming-webhook URL embeds the token that lets anyone
post): validation messages never repeat it, and pages show only its scheme and host.

Where a webhook may go
----------------------
A webhook is a request the portal makes on an administrator's say-so, from inside the network: aimed
at 127.0.0.1, the private network or a cloud's metadata service (169.254.169.254, fd00:ec2::254) it
would reach what no outsider can. So a webhook goes over https (plain http only with the development
setting ``PORTAL_WEBHOOK_ALLOW_HTTP``) to public addresses only, and the check is made on the
*resolved* addresses each time a message leaves (:func:`resolve_webhook_target`), since the name may
answer differently then than when the channel was saved (DNS rebinding); the sender connects to the
address checked here and to no other. ``PORTAL_WEBHOOK_ALLOWED_NETWORKS`` lets development and tests
reach a local receiver; production refuses to start with it.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
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
        try:
            parts.port  # noqa: B018 (read for its ValueError on a port that is not a number)
        except ValueError:
            raise ValidationError("Give an http:// or https:// URL.") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError("Give an http:// or https:// URL.")
        if parts.username or parts.password:
            # Credentials in the URL would be sent as-is and shown nowhere; say so instead.
            raise ValidationError("The URL must not contain a user name or password.")
        if any(char.isspace() for char in target):
            raise ValidationError("The URL must not contain spaces.")
        try:
            resolve_webhook_target(target)
        except TargetRefused as refusal:
            raise ValidationError(f"This target is not allowed: {refusal}.") from None
        except TargetUnresolvable:
            # A name that does not resolve yet (a receiver being set up) is taken: every message is
            # checked again when it leaves, which is the check that counts.
            pass
        return target
    raise ValidationError("Unknown channel kind.")


# --- Where a webhook may go -------------------------------------------------------------------


class TargetRefused(Exception):
    """A webhook target the portal must not send to. The message names at most the host and the
    address it resolved to, never the path or query (where a webhook keeps its token)."""


class TargetUnresolvable(Exception):
    """The target's name does not resolve now; it may later."""


@dataclass(frozen=True)
class ResolvedTarget:
    """A webhook target resolved once and checked: connect to ``addresses`` (every one of them
    allowed, in the resolver's order), and name ``host`` in the Host header and TLS SNI."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services, named as such so a refusal says what was aimed at (all of them are also
# link-local, private or shared addresses, refused below in any case).
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS DNS resolver
        "fd00:ec2::254",  # AWS over IPv6
        "fd00:ec2::253",
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
# Not public, though the ipaddress module of some Python versions calls them global.
_NOT_PUBLIC_NETWORKS: tuple[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network], ...] = (
    ("a shared (CGNAT) address", ipaddress.ip_network("100.64.0.0/10")),
    ("a reserved address", ipaddress.ip_network("192.0.0.0/24")),
    ("a benchmarking address", ipaddress.ip_network("198.18.0.0/15")),
)
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64): judged by that address.
_NAT64_NETWORKS = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def refusal_of_address(address: IPAddress) -> str | None:
    """What kind of address ``address`` is when a webhook must not go there ("a loopback address"),
    or None for a public address or one in ``PORTAL_WEBHOOK_ALLOWED_NETWORKS``."""
    for network in settings.PORTAL_WEBHOOK_ALLOWED_NETWORKS:
        if address in ipaddress.ip_network(network):
            return None
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 address that stands for an IPv4 one reaches that one: judge it by it.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and any(address in network for network in _NAT64_NETWORKS):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal_of_address(embedded)
    if address in _METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    for kind, not_public in _NOT_PUBLIC_NETWORKS:
        if address in not_public:
            return kind
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def resolve_webhook_target(url: str) -> ResolvedTarget:
    """Resolve a webhook URL's host once and check its scheme and every address it resolves to.

    Raises :class:`TargetRefused` for plain http outside development or for any address a webhook
    must not reach (one bad address among good ones refuses the target: which one a connection
    would use is not ours to choose), and :class:`TargetUnresolvable` when the name does not resolve.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "http" and not settings.PORTAL_WEBHOOK_ALLOW_HTTP:
        raise TargetRefused("webhooks use https:// (plain http is allowed in development only)")
    if parts.scheme not in ("http", "https") or not host:
        raise TargetRefused("the target is not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise TargetUnresolvable(f"{host} does not resolve") from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        text = str(sockaddr[0]).split("%", 1)[0]  # without an IPv6 zone ("fe80::1%eth0")
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise TargetUnresolvable(f"{host} does not resolve")
    for text in addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise TargetRefused(f"{host} resolves to something that is not an IP address") from None
        kind = refusal_of_address(address)
        if kind is not None:
            named = f"{address} is {kind}" if text == host else f"{host} resolves to {address}, {kind}"
            raise TargetRefused(f"{named} (webhooks go to public addresses only)")
    return ResolvedTarget(scheme=parts.scheme, host=host, port=port, addresses=tuple(addresses))


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


__all__ = [
    "ResolvedTarget",
    "TargetRefused",
    "TargetUnresolvable",
    "email_addresses",
    "masked_target",
    "origin_of",
    "refusal_of_address",
    "resolve_webhook_target",
    "validate_target",
]
