"""Seal the secrets stored in clear: TOTP secrets and recovery-code seeds (allauth's), and
notification channel targets (a Slack webhook URL embeds its token).

From this migration on, ``breakglass.adapters.PortalMFAAdapter`` and ``breakglass.fields.SealedTextField``
seal them on write and refuse a clear value on read, so every existing one is sealed here, under the
primary key of ``PORTAL_ENCRYPTION_KEYS`` (which must be set when there is anything to seal).
Reversible: going back opens them again, for a downgrade to a version that reads them in clear.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

import breakglass.fields
from breakglass.adapters import MFA_SEAL_PURPOSE, map_authenticator_secrets
from breakglass.sealing import is_sealed_text, open_text, seal_text

_KINDS = ("totp", "recovery_codes")
# breakglass.models.CHANNEL_TARGET_PURPOSE, frozen here as migrations are.
CHANNEL_TARGET_PURPOSE = "notification-channel-target"


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


def _each_channel_target(schema_editor: Any, change: Any) -> None:
    # Raw SQL: the field of this migration's model state already seals and opens, so reading a
    # clear value through it would be refused.
    table = schema_editor.connection.ops.quote_name("breakglass_notificationchannel")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, target FROM {table} ORDER BY id")
        for channel_id, target in cursor.fetchall():
            new = change(target)
            if new is not None:
                cursor.execute(f"UPDATE {table} SET target = %s WHERE id = %s", [new, channel_id])


def seal_channel_targets(apps: Any, schema_editor: Any) -> None:
    _each_channel_target(
        schema_editor,
        lambda value: None if is_sealed_text(value) else seal_text(value, purpose=CHANNEL_TARGET_PURPOSE),
    )


def open_channel_targets(apps: Any, schema_editor: Any) -> None:
    _each_channel_target(
        schema_editor,
        lambda value: open_text(value, purpose=CHANNEL_TARGET_PURPOSE) if is_sealed_text(value) else None,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("breakglass", "0005_notification_outbox_index"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [
        migrations.RunPython(seal_mfa_secrets, open_mfa_secrets),
        # Going back, the targets are opened (last operation, undone first) before the column is
        # narrowed to 500 characters again.
        migrations.AlterField(
            model_name="notificationchannel",
            name="target",
            field=breakglass.fields.SealedTextField(purpose="notification-channel-target"),
        ),
        migrations.RunPython(seal_channel_targets, open_channel_targets),
    ]
