"""Sealing and revealing root passwords: the Django side of :mod:`breakglass.crypto`.

The keyring comes from ``settings.PORTAL_ENCRYPTION_KEYS`` (``keyid:base64key,...``, newest first).
Rotating the key-encryption key:

1. ``python manage.py generate_encryption_key`` and prepend the entry to ``PORTAL_ENCRYPTION_KEYS``;
2. restart, then ``python manage.py reencrypt_root_credentials``;
3. remove the old entry once that command reports nothing left to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from breakglass.choices import CredentialStorage
from breakglass.crypto import DecryptionError, KeyConfigurationError
from breakglass.models import RootCredential
from breakglass.sealing import keyring
from ledger import services as ledger

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

REENCRYPTED_ACTION = "root_credential.reencrypted"


def _aad(credential: RootCredential) -> bytes:
    # Binds the envelope to this row: a ciphertext copied onto another credential (by a bug, a bad
    # restore or someone with database access) does not decrypt there. The UUID, not the pk,
    # because it is set when the object is built, before the first save.
    return f"root-credential:{credential.uuid}".encode()


def _stored_token(credential: RootCredential) -> bytes:
    if credential.ciphertext is None:
        raise DecryptionError(
            # Named by UUID, not str(): that would load the account, which may not exist yet.
            f"root credential {credential.uuid} holds no sealed password "
            f"(storage: {credential.get_storage_display()})"
        )
    # PostgreSQL hands BinaryField values back as memoryview.
    return bytes(credential.ciphertext)


def seal_root_password(*, credential: RootCredential, plaintext: str) -> None:
    """Encrypt ``plaintext`` onto ``credential`` under the primary key. The caller saves."""
    if not plaintext:
        raise ValueError("a root password cannot be empty")
    ring = keyring()
    credential.ciphertext = ring.encrypt(plaintext.encode("utf-8"), aad=_aad(credential))
    credential.encryption_key_id = ring.primary_key_id


def reveal_root_password(*, credential: RootCredential) -> str:
    """Decrypt the root password sealed on ``credential``.

    Raises :class:`~breakglass.crypto.DecryptionError` if nothing is sealed or the envelope does
    not open (tampered, moved from another row, or its key is no longer configured).
    """
    plaintext = keyring().decrypt(_stored_token(credential), aad=_aad(credential))
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        # Authenticated, so this is not tampering: something other than seal_root_password wrote it.
        raise DecryptionError(
            f"root credential {credential.uuid} holds a sealed value that is not UTF-8 text"
        ) from None


def root_credentials_reencrypt(
    *, actor: AbstractBaseUser | AnonymousUser | None = None, batch_size: int = 100
) -> int:
    """Re-encrypt every portal-stored root password not sealed under the primary key.

    Works in batches, each in its own transaction with the rows locked, so a long run neither
    holds every row locked at once nor races a concurrent rotation of the same password; an
    interrupted run keeps the batches already committed and a rerun finishes the rest. Records one
    ledger entry per re-encrypted credential. Returns how many were re-encrypted (0 when there is
    nothing left to do).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    ring = keyring()

    # Fail before changing anything if some envelope's key is no longer configured: otherwise the
    # run would stop halfway and the operator would learn about it one batch at a time.
    missing = sorted(
        set(
            RootCredential.objects.filter(storage=CredentialStorage.PORTAL)
            .exclude(encryption_key_id__in=ring.key_ids)
            .values_list("encryption_key_id", flat=True)
        )
    )
    if missing:
        raise KeyConfigurationError(
            "some root credentials are sealed under keys that are not configured "
            f"({', '.join(repr(key_id) for key_id in missing)}): add those keys back to "
            "PORTAL_ENCRYPTION_KEYS, behind the new one, before re-encrypting"
        )

    reencrypted = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            # Walk every portal credential and ask the token itself (its header names the key that
            # opens it) rather than filtering on encryption_key_id, so a column that drifted from
            # its envelope cannot hide a row from the rotation. "of self" leaves accounts unlocked.
            batch = list(
                RootCredential.objects.select_for_update(of=("self",))
                .select_related("account")
                .filter(storage=CredentialStorage.PORTAL, pk__gt=last_pk)
                .order_by("pk")[:batch_size]
            )
            if not batch:
                break
            for credential in batch:
                token = _stored_token(credential)
                if not ring.needs_reencryption(token):
                    continue
                old_key_id = ring.key_id_of(token)
                credential.ciphertext = ring.reencrypt(token, aad=_aad(credential))
                credential.encryption_key_id = ring.primary_key_id
                credential.save(update_fields=["ciphertext", "encryption_key_id", "updated_at"])
                ledger.record(
                    actor=actor,
                    action=REENCRYPTED_ACTION,
                    target=credential,
                    data={"from_key": old_key_id, "to_key": ring.primary_key_id},
                )
                reencrypted += 1
            last_pk = batch[-1].pk
    return reencrypted


__all__ = [
    "REENCRYPTED_ACTION",
    "keyring",
    "reveal_root_password",
    "root_credentials_reencrypt",
    "seal_root_password",
]
