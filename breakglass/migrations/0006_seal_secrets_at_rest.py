"""Seal the secrets allauth stored in clear: TOTP secrets and recovery-code seeds.

From this migration on, ``breakglass.adapters.PortalMFAAdapter`` seals them on write and refuses a
clear value on read, so every existing one is sealed here, under the primary key of
``PORTAL_ENCRYPTION_KEYS`` (which must be set when there is anything to seal). Reversible: going back
opens them again, for a downgrade to a version that reads them in clear.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from breakglass.adapters import MFA_SEAL_PURPOSE, map_authenticator_secrets
from breakglass.secrets import is_sealed_text, open_text, seal_text

_KINDS = ("totp", "recovery_codes")


def _seal(value: str) -> str | None:
    return None if is_sealed_text(value) else seal_text(value, purpose=MFA_SEAL_PURPOSE)


def _open(value: str) -> str | None:
    return open_text(value, purpose=MFA_SEAL_PURPOSE) if is_sealed_text(value) else None


def _each_authenticator(apps: Any, change: Any) -> None:
    authenticator_model = apps.get_model("mfa", "Authenticator")
    for authenticator in authenticator_model.objects.filter(type__in=_KINDS).order_by("pk").iterator():
        if map_authenticator_secrets(authenticator.type, authenticator.data, change):
            authenticator.save(update_fields=["data"])


def seal_mfa_secrets(apps: Any, schema_editor: Any) -> None:
    _each_authenticator(apps, _seal)


def open_mfa_secrets(apps: Any, schema_editor: Any) -> None:
    _each_authenticator(apps, _open)


class Migration(migrations.Migration):
    dependencies = [
        ("breakglass", "0005_notification_outbox_index"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [
        migrations.RunPython(seal_mfa_secrets, open_mfa_secrets),
    ]
