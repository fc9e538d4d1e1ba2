"""The ledger's keys, from the environment and never from the database.

* ``PORTAL_LEDGER_KEYS``: HMAC-SHA256 keys that chain the entries, ``keyid:base64key`` newest first.
  The first chains new entries; an entry verifies with the key whose id it records, so a new key is
  prepended and the old ones stay as long as entries chained with them are kept.
* ``PORTAL_LEDGER_SIGNING_KEY``: Ed25519 private keys (the 32-byte seed) that sign the checkpoints,
  same form: the first signs, all verify.

Both are parsed by the portal's one key-ring parser (``portal.env.parse_key_ring``). Whoever can
change the database still cannot compute an entry's MAC or a checkpoint's signature.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portal.env import ConfigurationError, parse_key_ring


class UnknownLedgerKey(LookupError):
    """An entry or checkpoint names a key id the configured ring does not hold."""


class _Ring:
    """Keys by id, newest first. ``repr`` shows ids only, so a ring in a traceback reveals nothing."""

    def __init__(self, keys: list[tuple[str, bytes]], *, variable: str) -> None:
        if not keys:
            raise ImproperlyConfigured(f"{variable} holds no key")
        self._variable = variable
        self._keys = dict(keys)
        self.primary_key_id = keys[0][0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def _key(self, key_id: str) -> bytes:
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownLedgerKey(f"key {key_id!r} is not in {self._variable}") from None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} primary={self.primary_key_id!r} keys={list(self._keys)!r}>"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling would write the keys to a cache or a task queue; refuse rather than leak.
        raise TypeError("a ledger key ring cannot be pickled")


class ChainKeys(_Ring):
    """The HMAC keys of the chain."""

    def key(self, key_id: str) -> bytes:
        """The HMAC key with ``key_id``; :class:`UnknownLedgerKey` when it is not configured."""
        return self._key(key_id)


class SigningKeys(_Ring):
    """The Ed25519 keys of the checkpoints."""

    def private_key(self, key_id: str) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self._key(key_id))

    def public_key(self, key_id: str) -> Ed25519PublicKey:
        return self.private_key(key_id).public_key()

    def verifying_keys(self) -> dict[str, Ed25519PublicKey]:
        """Each key id with its public key, for checking signatures."""
        return {key_id: self.public_key(key_id) for key_id in self.key_ids}

    def public_keys(self) -> Mapping[str, str]:
        """Each key id with its public key, base64 of the 32 raw bytes, to keep outside the portal."""
        return {
            key_id: base64.b64encode(
                self.public_key(key_id).public_bytes(Encoding.Raw, PublicFormat.Raw)
            ).decode("ascii")
            for key_id in self.key_ids
        }


def public_keys_from(entries: list[str]) -> dict[str, Ed25519PublicKey]:
    """Public keys as ``ledger_public_key`` prints them (``keyid:base64``), for checking checkpoints
    with keys kept outside the portal; ``ImproperlyConfigured`` when one is malformed."""
    keys: dict[str, Ed25519PublicKey] = {}
    for key_id, raw in _parse("the public keys", ",".join(entries)):
        if len(raw) != 32:
            raise ImproperlyConfigured(f"public key {key_id!r} is {len(raw)} bytes long; Ed25519 needs 32")
        keys[key_id] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


def _parse(variable: str, value: str) -> list[tuple[str, bytes]]:
    try:
        return parse_key_ring(value, what=variable)
    except ConfigurationError as error:
        raise ImproperlyConfigured(f"{variable}: {error}") from None


def _configured(variable: str, *, needed_for: str = "the audit ledger cannot be written or verified") -> str:
    value = getattr(settings, variable, None)
    if not value:
        raise ImproperlyConfigured(
            f"{variable} is not set: {needed_for} without it "
            "(scripts/run_dev.py init-env and scripts/testenv.py generate one; see docs/operations.md)"
        )
    return str(value)


# Cached per configured value: parsing on every append would cost, and a test that overrides the
# setting gets its own ring.
@lru_cache(maxsize=4)
def _chain_keys(value: str) -> ChainKeys:
    return ChainKeys(_parse("PORTAL_LEDGER_KEYS", value), variable="PORTAL_LEDGER_KEYS")


@lru_cache(maxsize=8)
def _signing_ring(variable: str, value: str) -> SigningKeys:
    return SigningKeys(_parse(variable, value), variable=variable)


def chain_keys() -> ChainKeys:
    """The configured HMAC keys; ``ImproperlyConfigured`` naming the variable when there are none."""
    return _chain_keys(_configured("PORTAL_LEDGER_KEYS"))


def signing_keys() -> SigningKeys:
    """The configured Ed25519 keys; ``ImproperlyConfigured`` naming the variable when there are none."""
    return _signing_ring("PORTAL_LEDGER_SIGNING_KEY", _configured("PORTAL_LEDGER_SIGNING_KEY"))


def signing_ring(variable: str, *, needed_for: str) -> SigningKeys:
    """Any other Ed25519 key ring of the same form, from the setting ``variable`` (e.g. the evidence
    bundles' ``PORTAL_EVIDENCE_SIGNING_KEY``): one parser and one signing code for every signature
    the portal makes. ``needed_for`` completes the error when the variable is not set."""
    return _signing_ring(variable, _configured(variable, needed_for=needed_for))
