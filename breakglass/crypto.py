"""AES-256-GCM envelope encryption of root passwords, with rotatable key-encryption keys.

Pure Python on top of ``cryptography``; no Django here, so the format can be reviewed, tested and
used by recovery tooling on its own. The Django glue (settings, models, ledger) lives in
:mod:`breakglass.secrets`.

Scheme
------
Each secret gets a fresh random 256-bit *data key*. The plaintext is encrypted under the data key;
the data key is then *wrapped* (encrypted) under a *key-encryption key* (KEK) from the keyring.
The keyring holds several KEKs, newest first: the first one encrypts, every one decrypts, so a new
KEK can be prepended, everything re-encrypted, and only then the old KEK removed.

The caller supplies associated data (``aad``) naming what the secret belongs to (for a root
password, the credential's UUID). It is authenticated but not stored, so a token copied onto
another record fails to decrypt there.

Token format (version 1), all lengths in bytes::

    offset        size  field
    0             3     magic b"BG1"   ("BG" = break-glass, "1" = format version)
    3             1     n = length of the key id (1..32)
    4             n     key id, ASCII [A-Za-z0-9_-]
    4+n           12    wrap nonce
    16+n          48    wrapped data key (32-byte key + 16-byte GCM tag)
    64+n          12    data nonce
    76+n          m+16  ciphertext of the m-byte plaintext + 16-byte GCM tag

    header = magic || n || key id
    wrapped data key = AES-GCM(KEK,      wrap nonce, data key,  aad = header || aad)
    ciphertext       = AES-GCM(data key, data nonce, plaintext, aad = header || wrap nonce
                                                                      || wrapped data key || aad)

Binding the header into both associated data means the key id cannot be swapped or stripped
without detection; binding the wrapped key into the data encryption ties the two halves together.
Because the header is length-prefixed, ``header || aad`` is unambiguous.

Nonces are random (96 bits). Under one KEK that is safe for far more than the number of root
credentials an organisation will ever seal (the GCM bound is about 2**32 messages per key); each
data key encrypts exactly one message.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Plain modules without Django: importing them does not load the settings or the Celery app.
from portal.env import MAX_KEY_ID_LENGTH, ConfigurationError, is_valid_key_id, parse_key_ring

__all__ = [
    "MAGIC",
    "CryptoError",
    "DecryptionError",
    "KeyConfigurationError",
    "Keyring",
    "generate_key_entry",
]

MAGIC = b"BG1"
KEY_SIZE = 32  # AES-256
NONCE_SIZE = 12  # the GCM standard nonce; other sizes are hashed down and lose their guarantees
TAG_SIZE = 16
WRAPPED_KEY_SIZE = KEY_SIZE + TAG_SIZE
# The smallest well-formed token: one-character key id, empty plaintext.
_MIN_TOKEN_SIZE = len(MAGIC) + 1 + 1 + NONCE_SIZE + WRAPPED_KEY_SIZE + NONCE_SIZE + TAG_SIZE


class CryptoError(Exception):
    """Base of every error this module raises."""


class KeyConfigurationError(CryptoError):
    """The keyring configuration cannot be used. The message never contains key material."""


class DecryptionError(CryptoError):
    """A token cannot be opened: malformed, tampered, wrong ``aad`` or unknown key.

    The message never contains plaintext or key material, so it can be logged and shown.
    """


def _header(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return MAGIC + bytes([len(encoded)]) + encoded


class _Token:
    """A token split into its fields; only checks the layout, not the cryptography."""

    __slots__ = ("ciphertext", "data_nonce", "header", "key_id", "wrap_nonce", "wrapped_key")

    def __init__(self, token: bytes) -> None:
        if not isinstance(token, bytes | bytearray | memoryview):
            raise DecryptionError("malformed token: expected bytes")
        token = bytes(token)
        if len(token) < _MIN_TOKEN_SIZE or not token.startswith(MAGIC):
            raise DecryptionError("malformed token: not a BG1 envelope (wrong format or truncated)")
        key_id_length = token[len(MAGIC)]
        position = len(MAGIC) + 1
        key_id_bytes = token[position : position + key_id_length]
        try:
            key_id = key_id_bytes.decode("ascii")
        except UnicodeDecodeError:
            key_id = ""
        if not is_valid_key_id(key_id):
            raise DecryptionError("malformed token: the key id is not valid")
        position += key_id_length
        if len(token) < position + NONCE_SIZE + WRAPPED_KEY_SIZE + NONCE_SIZE + TAG_SIZE:
            raise DecryptionError("malformed token: truncated")
        self.key_id = key_id
        self.header = token[:position]
        self.wrap_nonce = token[position : position + NONCE_SIZE]
        position += NONCE_SIZE
        self.wrapped_key = token[position : position + WRAPPED_KEY_SIZE]
        position += WRAPPED_KEY_SIZE
        self.data_nonce = token[position : position + NONCE_SIZE]
        position += NONCE_SIZE
        self.ciphertext = token[position:]


class Keyring:
    """Key-encryption keys by id, newest first: the first encrypts, all decrypt.

    Only :class:`AESGCM` objects are kept, never the raw key bytes, and ``repr`` shows key ids
    only, so a keyring that ends up in a log line, a debug page or a traceback reveals nothing.
    """

    __slots__ = ("_ciphers", "_primary_key_id")

    def __init__(self, keys: Iterable[tuple[str, bytes]]) -> None:
        ciphers: dict[str, AESGCM] = {}
        for position, (key_id, key) in enumerate(keys, start=1):
            if not isinstance(key_id, str) or not is_valid_key_id(key_id):
                raise KeyConfigurationError(
                    f"key {position} has an invalid key id: use 1 to {MAX_KEY_ID_LENGTH} characters "
                    "from A-Z, a-z, 0-9, '_' and '-'"
                )
            if key_id in ciphers:
                raise KeyConfigurationError(
                    f"key id {key_id!r} appears more than once: every key needs its own id"
                )
            if not isinstance(key, bytes) or len(key) != KEY_SIZE:
                size = len(key) if isinstance(key, bytes) else "?"
                raise KeyConfigurationError(
                    f"key {key_id!r} is {size} bytes long; AES-256 needs exactly {KEY_SIZE} bytes"
                )
            ciphers[key_id] = AESGCM(key)
        if not ciphers:
            raise KeyConfigurationError("the keyring is empty: at least one key is needed")
        self._ciphers = ciphers
        self._primary_key_id = next(iter(ciphers))

    @classmethod
    def from_config(cls, value: str) -> Keyring:
        """Parse ``"keyid:base64key,keyid:base64key,..."``, newest first (``portal.env.parse_key_ring``,
        the one parser of key rings).

        Error messages name the entry by position (and its id once the id is known to be
        well-formed) but never echo the entry itself: a mistyped entry may well be a key.
        """
        try:
            keys = parse_key_ring(value, what="encryption keys")
        except ConfigurationError as error:
            raise KeyConfigurationError(str(error)) from None
        return cls(keys)

    @property
    def primary_key_id(self) -> str:
        """The id of the key that encrypts (the first configured)."""
        return self._primary_key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        """All key ids, newest first."""
        return tuple(self._ciphers)

    def __repr__(self) -> str:
        return f"<Keyring primary={self._primary_key_id!r} keys={list(self._ciphers)!r}>"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling would write the keys to a cache or a task queue; refuse rather than leak.
        raise TypeError("a Keyring cannot be pickled")

    def encrypt(self, plaintext: bytes, *, aad: bytes) -> bytes:
        """Seal ``plaintext`` under a fresh data key wrapped by the primary key."""
        key_id = self._primary_key_id
        header = _header(key_id)
        data_key = AESGCM.generate_key(bit_length=KEY_SIZE * 8)
        wrap_nonce = os.urandom(NONCE_SIZE)
        wrapped_key = self._ciphers[key_id].encrypt(wrap_nonce, data_key, header + aad)
        data_nonce = os.urandom(NONCE_SIZE)
        ciphertext = AESGCM(data_key).encrypt(
            data_nonce, bytes(plaintext), header + wrap_nonce + wrapped_key + aad
        )
        return header + wrap_nonce + wrapped_key + data_nonce + ciphertext

    def decrypt(self, token: bytes, *, aad: bytes) -> bytes:
        """Open a token sealed by :meth:`encrypt` under any key in the keyring with the same ``aad``."""
        parsed = _Token(token)
        kek = self._ciphers.get(parsed.key_id)
        if kek is None:
            raise DecryptionError(
                f"the token was sealed under key {parsed.key_id!r}, which is not in the keyring"
            )
        try:
            data_key = kek.decrypt(parsed.wrap_nonce, parsed.wrapped_key, parsed.header + aad)
            return AESGCM(data_key).decrypt(
                parsed.data_nonce,
                parsed.ciphertext,
                parsed.header + parsed.wrap_nonce + parsed.wrapped_key + aad,
            )
        except InvalidTag:
            # One message for every failure: telling which half failed would help an attacker
            # probing the format, and helps an operator not at all.
            raise DecryptionError(
                "the token failed authentication: it was altered, sealed for another record, "
                "or the key with its id has changed"
            ) from None

    def reencrypt(self, token: bytes, *, aad: bytes) -> bytes:
        """Open ``token`` and seal it again under the primary key (with a fresh data key)."""
        return self.encrypt(self.decrypt(token, aad=aad), aad=aad)

    def key_id_of(self, token: bytes) -> str:
        """The id of the key a token was sealed under (read from its header, not verified)."""
        return _Token(token).key_id

    def needs_reencryption(self, token: bytes) -> bool:
        """Whether ``token`` is sealed under a key other than the primary one."""
        return self.key_id_of(token) != self._primary_key_id


def generate_key_entry(key_id: str | None = None) -> str:
    """A new ``keyid:base64key`` entry for ``PORTAL_ENCRYPTION_KEYS``.

    The default id carries the date so operators can tell keys apart by age, and a random suffix
    so two keys made the same day do not collide.
    """
    if key_id is None:
        key_id = f"k{datetime.now(UTC):%Y%m%d}-{os.urandom(2).hex()}"
    if not is_valid_key_id(key_id):
        raise KeyConfigurationError(
            f"invalid key id: use 1 to {MAX_KEY_ID_LENGTH} characters from A-Z, a-z, 0-9, '_' and '-'"
        )
    key = AESGCM.generate_key(bit_length=KEY_SIZE * 8)
    return f"{key_id}:{base64.b64encode(key).decode('ascii')}"
