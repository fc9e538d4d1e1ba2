"""The key ring from the settings, and sealing of short secret texts with it.

:mod:`breakglass.secrets` seals root passwords (bytes, bound to their row); this module holds what
needs no model: the configured :class:`~breakglass.crypto.Keyring` and text sealing, so a model
field (:class:`breakglass.fields.SealedTextField`), allauth's MFA adapter and migrations can use it
without importing the models. A sealed text is ``sealed:`` followed by the base64 of a BG1 envelope
whose associated data is the value's *purpose* (what it is), so a value copied into another kind
of column does not open there.
"""

from __future__ import annotations

import base64
import binascii
import functools

from django.conf import settings

from breakglass.crypto import DecryptionError, KeyConfigurationError, Keyring


@functools.lru_cache(maxsize=4)
def _keyring_for(value: str) -> Keyring:
    # Keyed by the settings value so override_settings (tests) and a changed environment each get
    # their own keyring, while normal requests skip re-parsing and re-validating the keys.
    return Keyring.from_config(value)


def keyring() -> Keyring:
    """The keyring configured in ``settings.PORTAL_ENCRYPTION_KEYS``."""
    value = getattr(settings, "PORTAL_ENCRYPTION_KEYS", None)
    if not value:
        raise KeyConfigurationError(
            "PORTAL_ENCRYPTION_KEYS is not set: generate a key with "
            "`python manage.py generate_encryption_key` and set PORTAL_ENCRYPTION_KEYS to the "
            "printed 'keyid:base64key' entry"
        )
    return _keyring_for(value)


#: How a sealed text value starts (a TOTP secret, a webhook URL): the envelope, base64, behind it.
SEALED_TEXT_PREFIX = "sealed:"


def is_sealed_text(value: object) -> bool:
    """Whether ``value`` has the form :func:`seal_text` writes (not whether it opens)."""
    return isinstance(value, str) and value.startswith(SEALED_TEXT_PREFIX)


def _text_token(value: str) -> bytes:
    if not is_sealed_text(value):
        # Never echo the value: it may be a secret stored in clear by mistake.
        raise DecryptionError("the value is not sealed (it does not start with 'sealed:')")
    try:
        return base64.b64decode(value[len(SEALED_TEXT_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("the sealed value is not valid base64") from None


def seal_text(plaintext: str, *, purpose: str) -> str:
    """Seal a short secret text under the primary key, as a string a text or JSON column can hold.

    ``purpose`` is the associated data: a value sealed for one purpose does not open for another.
    """
    token = keyring().encrypt(plaintext.encode("utf-8"), aad=purpose.encode())
    return SEALED_TEXT_PREFIX + base64.b64encode(token).decode("ascii")


def open_text(value: str, *, purpose: str) -> str:
    """Open a value written by :func:`seal_text` for the same ``purpose``.

    A value in clear is refused (DecryptionError), never passed through: the data migrations seal
    what was stored before, so a clear value can only have been written behind the portal's back.
    """
    plaintext = keyring().decrypt(_text_token(value), aad=purpose.encode())
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError("the sealed value is not UTF-8 text") from None


def sealed_text_key_id(value: str) -> str:
    """The id of the key a sealed text value was sealed under (from its header, not verified)."""
    return keyring().key_id_of(_text_token(value))


def reseal_text(value: str, *, purpose: str) -> str | None:
    """``value`` sealed again under the primary key, or None when it already is."""
    ring = keyring()
    token = _text_token(value)
    if not ring.needs_reencryption(token):
        return None
    return SEALED_TEXT_PREFIX + base64.b64encode(ring.reencrypt(token, aad=purpose.encode())).decode("ascii")


__all__ = [
    "SEALED_TEXT_PREFIX",
    "is_sealed_text",
    "keyring",
    "open_text",
    "reseal_text",
    "seal_text",
    "sealed_text_key_id",
]
