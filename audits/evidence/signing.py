"""The evidence bundles' signing keys: ``PORTAL_EVIDENCE_SIGNING_KEY``, an Ed25519 key ring of the
same form as the ledger's checkpoint keys (``keyid:base64-seed``, newest first: the first signs, all
verify), parsed and used by the ledger's own key code (``ledger.keys.signing_ring``)."""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.keys import SigningKeys, public_keys_from, signing_ring

VARIABLE = "PORTAL_EVIDENCE_SIGNING_KEY"
SIGNATURE_MEMBER = "manifest.sig"


def evidence_keys() -> SigningKeys:
    """The configured ring; ``ImproperlyConfigured`` naming the variable when it is not set."""
    return signing_ring(VARIABLE, needed_for="evidence bundles cannot be signed or checked")


def verifying_keys(given: list[str] | None = None) -> dict[str, Ed25519PublicKey]:
    """Public keys by id: ``given`` as ``evidence_public_key`` prints them (``keyid:base64``, kept by
    the auditors outside the portal), else those of the configured ring."""
    if given:
        return public_keys_from(given)
    return evidence_keys().verifying_keys()


def sign(manifest: bytes, keys: SigningKeys) -> bytes:
    """``manifest.sig``: ``keyid:base64-signature`` and a newline, over the exact manifest bytes."""
    signature = keys.private_key(keys.primary_key_id).sign(manifest)
    return f"{keys.primary_key_id}:{base64.b64encode(signature).decode('ascii')}\n".encode("ascii")


def parse_signature(body: bytes) -> tuple[str, bytes]:
    """The key id and the 64 signature bytes of a ``manifest.sig``; ``ValueError`` when it is not one."""
    try:
        key_id, _, encoded = body.decode("ascii").strip().partition(":")
        signature = base64.b64decode(encoded, validate=True)
    except (UnicodeDecodeError, binascii.Error):
        raise ValueError("it is not a key id and a base64 signature") from None
    if not key_id or len(signature) != 64:
        raise ValueError("it is not a key id and a 64-byte Ed25519 signature")
    return key_id, signature


__all__ = ["VARIABLE", "evidence_keys", "parse_signature", "sign", "verifying_keys"]
