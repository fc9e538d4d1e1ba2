"""TOTP secrets and recovery-code seeds at rest: sealed with the portal's key ring, never in clear."""

from __future__ import annotations

import importlib
import json
from io import StringIO
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.utils import decrypt
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from breakglass.adapters import MFA_SEAL_PURPOSE, authenticators_reencrypt
from breakglass.crypto import DecryptionError, generate_key_entry
from breakglass.sealing import is_sealed_text, sealed_text_key_id
from ledger.models import LedgerEntry
from portal.testing import settled_totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
OLD_KEY = generate_key_entry("old")
NEW_KEY = generate_key_entry("new")


@pytest.fixture(autouse=True)
def old_key(settings: Any) -> None:
    settings.PORTAL_ENCRYPTION_KEYS = OLD_KEY


def raw_data(authenticator_id: int) -> str:
    """The ``data`` column as the database holds it, past every Django converter."""
    table = connection.ops.quote_name(Authenticator._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT data::text FROM {table} WHERE id = %s", [authenticator_id])
        (value,) = cursor.fetchone()
    return str(value)


def test_the_database_never_holds_the_totp_secret(approver: Any) -> None:
    authenticator = Authenticator.objects.get(user=approver, type=Authenticator.Type.TOTP)

    raw = raw_data(authenticator.pk)

    assert approver.totp_secret not in raw
    stored = json.loads(raw)["secret"]
    assert is_sealed_text(stored)
    assert sealed_text_key_id(stored) == "old"
    # allauth still reads the secret through the adapter.
    assert decrypt(authenticator.data["secret"]) == approver.totp_secret


def test_the_database_never_holds_the_recovery_code_seed(approver: Any) -> None:
    authenticator = RecoveryCodes.activate(approver).instance
    codes = RecoveryCodes(authenticator).get_unused_codes()

    raw = raw_data(authenticator.pk)

    seed = decrypt(json.loads(raw)["seed"])
    assert seed not in raw
    assert not any(code in raw for code in codes)


def test_signing_in_with_a_totp_code_still_works(approver: Any) -> None:
    client = Client()
    response = client.post(reverse("account_login"), {"login": approver.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")

    response = client.post(reverse("mfa_authenticate"), {"code": settled_totp_code(approver.totp_secret)})

    assert response.status_code == 302
    assert response["Location"] != reverse("mfa_authenticate")
    assert client.get(reverse("breakglass:account_list")).status_code == 200


def test_a_wrong_totp_code_is_still_refused(approver: Any) -> None:
    client = Client()
    client.post(reverse("account_login"), {"login": approver.username, "password": PASSWORD})

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})

    assert response.status_code == 200
    assert client.get(reverse("breakglass:account_list")).status_code == 302


def test_a_secret_stored_in_clear_is_refused_rather_than_used(approver: Any) -> None:
    # After the migration nothing is in clear: a clear value was written behind the portal's back.
    with pytest.raises(DecryptionError):
        decrypt(approver.totp_secret)


def test_the_migration_seals_secrets_stored_in_clear_and_its_reverse_opens_them(approver: Any) -> None:
    migration = importlib.import_module("breakglass.migrations.0006_seal_secrets_at_rest")
    totp = Authenticator.objects.get(user=approver, type=Authenticator.Type.TOTP)
    Authenticator.objects.filter(pk=totp.pk).update(data={"secret": approver.totp_secret})
    clear_codes = Authenticator.objects.create(
        user=approver,
        type=Authenticator.Type.RECOVERY_CODES,
        data={"seed": "ab" * 40, "used_mask": 0, "migrated_codes": ["12345678"]},
    )

    migration.seal_mfa_secrets(django_apps, None)

    assert approver.totp_secret not in raw_data(totp.pk)
    assert "ab" * 40 not in raw_data(clear_codes.pk)
    assert "12345678" not in raw_data(clear_codes.pk)
    totp.refresh_from_db()
    assert decrypt(totp.data["secret"]) == approver.totp_secret
    migration.seal_mfa_secrets(django_apps, None)  # idempotent: sealed values stay as they are
    totp.refresh_from_db()
    assert decrypt(totp.data["secret"]) == approver.totp_secret

    migration.open_mfa_secrets(django_apps, None)

    totp.refresh_from_db()
    assert totp.data["secret"] == approver.totp_secret


def test_rotating_the_key_reseals_every_mfa_secret(approver: Any, custodian: Any) -> None:
    RecoveryCodes.activate(approver)

    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{OLD_KEY}"):
        assert authenticators_reencrypt() == 3
        assert authenticators_reencrypt() == 0

    # The old key can go: everything opens under the new one alone.
    with override_settings(PORTAL_ENCRYPTION_KEYS=NEW_KEY):
        totp = Authenticator.objects.get(user=approver, type=Authenticator.Type.TOTP)
        assert decrypt(totp.data["secret"]) == approver.totp_secret
        assert sealed_text_key_id(json.loads(raw_data(totp.pk))["secret"]) == "new"
        codes = Authenticator.objects.get(user=approver, type=Authenticator.Type.RECOVERY_CODES)
        assert len(RecoveryCodes(codes).get_unused_codes()) > 0
    entries = LedgerEntry.objects.filter(action="mfa_authenticator.reencrypted")
    assert entries.count() == 3
    assert all(approver.totp_secret not in json.dumps(entry.data) for entry in entries)


def test_the_reencrypt_command_reseals_mfa_secrets_too(approver: Any) -> None:
    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{OLD_KEY}"):
        out = StringIO()
        call_command("reencrypt_root_credentials", stdout=out)

    assert "Re-encrypted 1 MFA authenticator secrets" in out.getvalue()


def test_the_seal_purpose_is_fixed() -> None:
    # Changing it would make every enrolled authenticator unreadable.
    assert MFA_SEAL_PURPOSE == "allauth-mfa"
