"""Sealing root passwords on credentials, rotating the key, and the commands around it."""

from __future__ import annotations

import base64
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from breakglass import secrets
from breakglass.choices import CredentialStorage
from breakglass.crypto import DecryptionError, KeyConfigurationError, Keyring, generate_key_entry
from breakglass.models import RootCredential
from breakglass.secrets import (
    keyring,
    reveal_root_password,
    root_credentials_reencrypt,
    seal_root_password,
)
from breakglass.tests.factories import AwsAccountFactory
from ledger.chain import verify
from ledger.models import LedgerEntry

# Non-ASCII on purpose: the UTF-8 form differs from other encodings, and all must stay hidden.
PASSWORD = "Zebra-Øresund-7#kV!q2"
OLD_KEY = generate_key_entry("old")
NEW_KEY = generate_key_entry("new")


@pytest.fixture(autouse=True)
def old_key(settings: Any) -> None:
    settings.PORTAL_ENCRYPTION_KEYS = OLD_KEY


def sealed_credential(password: str = PASSWORD) -> RootCredential:
    credential = RootCredential(account=AwsAccountFactory(), storage=CredentialStorage.PORTAL)
    seal_root_password(credential=credential, plaintext=password)
    credential.save()
    return credential


def raw_ciphertext(credential: RootCredential) -> bytes:
    table = connection.ops.quote_name(RootCredential._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ciphertext FROM {table} WHERE id = %s", [credential.pk])
        (value,) = cursor.fetchone()
    return bytes(value)


@pytest.mark.django_db
def test_sealing_then_reading_back_from_the_database_round_trips() -> None:
    credential = sealed_credential()

    stored = RootCredential.objects.get(pk=credential.pk)

    assert stored.encryption_key_id == "old"
    assert reveal_root_password(credential=stored) == PASSWORD


@pytest.mark.django_db
def test_the_database_column_never_holds_the_plaintext() -> None:
    credential = sealed_credential()

    raw = raw_ciphertext(credential)

    assert raw.startswith(b"BG1")
    utf8 = PASSWORD.encode("utf-8")
    for form in (
        utf8,
        PASSWORD.encode("utf-16-le"),
        base64.b64encode(utf8),
        base64.urlsafe_b64encode(utf8),
        utf8.hex().encode(),
        b"Zebra",
    ):
        assert form not in raw
    for text_column in ("encryption_key_id", "safe_location", "envelope_number"):
        assert PASSWORD not in getattr(credential, text_column)


@pytest.mark.django_db
def test_a_ciphertext_moved_to_another_credential_does_not_decrypt() -> None:
    victim = sealed_credential()
    other = sealed_credential("another password")

    RootCredential.objects.filter(pk=other.pk).update(ciphertext=raw_ciphertext(victim))
    other.refresh_from_db()

    with pytest.raises(DecryptionError) as caught:
        reveal_root_password(credential=other)
    assert PASSWORD not in str(caught.value)
    assert reveal_root_password(credential=RootCredential.objects.get(pk=victim.pk)) == PASSWORD


@pytest.mark.django_db
def test_a_tampered_database_column_is_refused() -> None:
    credential = sealed_credential()
    raw = bytearray(raw_ciphertext(credential))
    raw[-1] ^= 0x01
    RootCredential.objects.filter(pk=credential.pk).update(ciphertext=bytes(raw))

    with pytest.raises(DecryptionError):
        reveal_root_password(credential=RootCredential.objects.get(pk=credential.pk))


def test_sealing_refuses_an_empty_password() -> None:
    credential = RootCredential(storage=CredentialStorage.PORTAL)

    with pytest.raises(ValueError, match="empty"):
        seal_root_password(credential=credential, plaintext="")
    assert credential.ciphertext is None


def test_revealing_a_credential_without_a_sealed_password_is_refused() -> None:
    credential = RootCredential(storage=CredentialStorage.PHYSICAL)

    with pytest.raises(DecryptionError, match="no sealed password"):
        reveal_root_password(credential=credential)


@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_key_configuration_says_how_to_make_one(settings: Any, value: str | None) -> None:
    settings.PORTAL_ENCRYPTION_KEYS = value

    with pytest.raises(KeyConfigurationError, match="PORTAL_ENCRYPTION_KEYS is not set") as caught:
        keyring()
    assert "generate_encryption_key" in str(caught.value)


def test_the_keyring_is_cached_per_settings_value() -> None:
    first = keyring()

    assert keyring() is first
    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{OLD_KEY}"):
        rotated = keyring()
        assert isinstance(rotated, Keyring)
        assert rotated.primary_key_id == "new"
    assert keyring() is first


@pytest.mark.django_db
def test_reencrypting_after_a_new_key_is_prepended_moves_everything_to_it() -> None:
    credentials = [sealed_credential(f"{PASSWORD}-{n}") for n in range(5)]
    physical = RootCredential.objects.create(
        account=AwsAccountFactory(),
        storage=CredentialStorage.PHYSICAL,
        safe_location="Safe B",
        envelope_number="ENV-1",
    )

    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{OLD_KEY}"):
        # A batch smaller than the count, so more than one transaction is exercised.
        assert root_credentials_reencrypt(batch_size=2) == 5
        assert root_credentials_reencrypt(batch_size=2) == 0

    stored = {credential.pk: credential for credential in RootCredential.objects.all()}
    for credential in credentials:
        assert stored[credential.pk].encryption_key_id == "new"
        assert raw_ciphertext(credential).startswith(b"BG1\x03new")
    assert stored[physical.pk].ciphertext is None

    # The old key can now go: everything opens under the new one alone.
    with override_settings(PORTAL_ENCRYPTION_KEYS=NEW_KEY):
        for n, credential in enumerate(credentials):
            assert reveal_root_password(credential=stored[credential.pk]) == f"{PASSWORD}-{n}"
        assert root_credentials_reencrypt() == 0

    entries = LedgerEntry.objects.filter(action="root_credential.reencrypted")
    assert entries.count() == 5
    assert {entry.target_id for entry in entries} == {str(credential.uuid) for credential in credentials}
    for entry in entries:
        assert entry.data == {"from_key": "old", "to_key": "new"}
        assert entry.actor_name == "system"
        assert PASSWORD not in str(entry.data)
    assert verify().intact


@pytest.mark.django_db
def test_reencrypting_records_the_actor(make_persona: Any) -> None:
    sealed_credential()
    person = make_persona("ada.admin", mfa=False)

    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{OLD_KEY}"):
        assert root_credentials_reencrypt(actor=person) == 1

    entry = LedgerEntry.objects.get(action="root_credential.reencrypted")
    assert entry.actor_id == person.pk


@pytest.mark.django_db
def test_reencrypting_rolls_back_when_the_ledger_entry_cannot_be_written(monkeypatch: Any) -> None:
    credential = sealed_credential()

    def broken_record(**kwargs: Any) -> None:
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(secrets.ledger, "record", broken_record)
    with (
        override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{OLD_KEY}"),
        pytest.raises(RuntimeError, match="ledger unavailable"),
    ):
        root_credentials_reencrypt()

    credential.refresh_from_db()
    assert credential.encryption_key_id == "old"
    assert raw_ciphertext(credential).startswith(b"BG1\x03old")


@pytest.mark.django_db
def test_reencrypting_refuses_to_start_when_a_key_in_use_is_missing() -> None:
    credential = sealed_credential()
    other_key = generate_key_entry("other")

    with (
        override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{other_key}"),
        pytest.raises(KeyConfigurationError, match="'old'"),
    ):
        root_credentials_reencrypt()

    credential.refresh_from_db()
    assert credential.encryption_key_id == "old"
    assert not LedgerEntry.objects.filter(action="root_credential.reencrypted").exists()


@pytest.mark.django_db
def test_the_reencrypt_command_reports_what_it_did() -> None:
    sealed_credential()
    sealed_credential("second password")

    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{OLD_KEY}"):
        out = StringIO()
        call_command("reencrypt_root_credentials", stdout=out)
        assert out.getvalue().splitlines() == [
            "Re-encrypted 2 root credentials under key new",
            "Re-encrypted the secrets of 0 notification channels",
            "Re-encrypted 0 MFA authenticator secrets",
        ]

        again = StringIO()
        call_command("reencrypt_root_credentials", "--batch-size", "1", stdout=again)
        assert again.getvalue().splitlines()[0] == "Re-encrypted 0 root credentials under key new"


@pytest.mark.django_db
def test_the_reencrypt_command_explains_a_missing_configuration(settings: Any) -> None:
    settings.PORTAL_ENCRYPTION_KEYS = None

    with pytest.raises(CommandError, match="PORTAL_ENCRYPTION_KEYS is not set"):
        call_command("reencrypt_root_credentials", stdout=StringIO())


def test_the_generate_command_prints_an_entry_to_prepend() -> None:
    out, err = StringIO(), StringIO()

    call_command("generate_encryption_key", "--key-id", "k2030", stdout=out, stderr=err)

    new_entry = out.getvalue().strip()
    assert new_entry.startswith("k2030:")
    ring = Keyring.from_config(f"{new_entry},{OLD_KEY}")
    assert ring.primary_key_id == "k2030"
    assert "Prepend" in err.getvalue()
    assert "PORTAL_ENCRYPTION_KEYS" in err.getvalue()
    assert "reencrypt_root_credentials" in err.getvalue()


def test_the_generate_command_picks_an_id_when_none_is_given() -> None:
    out = StringIO()

    call_command("generate_encryption_key", stdout=out, stderr=StringIO())

    assert Keyring.from_config(out.getvalue().strip()).primary_key_id.startswith("k")


def test_the_generate_command_refuses_an_id_already_configured() -> None:
    with pytest.raises(CommandError, match="already"):
        call_command("generate_encryption_key", "--key-id", "old", stdout=StringIO(), stderr=StringIO())


def test_the_generate_command_refuses_an_invalid_id() -> None:
    with pytest.raises(CommandError, match="invalid key id"):
        call_command("generate_encryption_key", "--key-id", "no spaces", stdout=StringIO(), stderr=StringIO())
