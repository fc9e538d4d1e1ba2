"""A channel's target (a Slack webhook URL embeds the token that lets anyone post) is sealed at rest
with the portal's key ring, like the signing secret; it still reads back and delivers as before."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from breakglass.choices import ChannelKind
from breakglass.crypto import generate_key_entry
from breakglass.models import NotificationChannel
from breakglass.notifications.senders import open_signing_secret
from breakglass.notifications.services import (
    notification_channel_create,
    notification_channel_secrets_reencrypt,
)
from ledger.models import LedgerEntry
from portal.policy import Role

pytestmark = pytest.mark.django_db

SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXsecretTOKEN"
OLD_KEY = generate_key_entry("old")
NEW_KEY = generate_key_entry("new")


@pytest.fixture(autouse=True)
def old_key(settings: Any) -> None:
    settings.PORTAL_ENCRYPTION_KEYS = OLD_KEY


def raw_target(channel: NotificationChannel) -> str:
    table = connection.ops.quote_name(NotificationChannel._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT target FROM {table} WHERE id = %s", [channel.pk])
        (value,) = cursor.fetchone()
    return str(value)


@pytest.fixture
def administrator(make_persona: Any) -> Any:
    return make_persona("ada.admin", Role.ADMINISTRATOR)


def test_the_database_never_holds_a_webhook_url(administrator: Any) -> None:
    channel, _ = notification_channel_create(
        actor=administrator, account=None, kind=ChannelKind.SLACK, name="secops", target=SLACK_URL
    )

    raw = raw_target(channel)

    assert "secretTOKEN" not in raw
    assert "hooks.slack.com" not in raw
    assert NotificationChannel.objects.get(pk=channel.pk).target == SLACK_URL


def test_rotating_the_key_reseals_channel_targets(administrator: Any) -> None:
    slack, _ = notification_channel_create(
        actor=administrator, account=None, kind=ChannelKind.SLACK, name="secops", target=SLACK_URL
    )
    webhook, secret = notification_channel_create(
        actor=administrator, account=None, kind=ChannelKind.WEBHOOK, name="siem", target=SLACK_URL + "2"
    )

    with override_settings(PORTAL_ENCRYPTION_KEYS=f"{NEW_KEY},{OLD_KEY}"):
        assert notification_channel_secrets_reencrypt() == 2
        assert notification_channel_secrets_reencrypt() == 0

    with override_settings(PORTAL_ENCRYPTION_KEYS=NEW_KEY):
        assert NotificationChannel.objects.get(pk=slack.pk).target == SLACK_URL
        stored = NotificationChannel.objects.get(pk=webhook.pk)
        assert stored.target == SLACK_URL + "2"
        assert open_signing_secret(stored) == secret.encode()
    entries = LedgerEntry.objects.filter(action="notification_channel.secret_reencrypted")
    assert sorted(tuple(entry.data["resealed"]) for entry in entries) == [
        ("target",),
        ("target", "signing_secret"),
    ]
    assert all("secretTOKEN" not in json.dumps(entry.data) for entry in entries)


def test_the_migration_seals_targets_stored_in_clear_and_its_reverse_opens_them(administrator: Any) -> None:
    migration = importlib.import_module("breakglass.migrations.0006_seal_secrets_at_rest")
    channel, _ = notification_channel_create(
        actor=administrator, account=None, kind=ChannelKind.SLACK, name="secops", target=SLACK_URL
    )
    with connection.schema_editor(atomic=False) as editor:
        migration.open_channel_targets(None, editor)
        assert raw_target(channel) == SLACK_URL

        migration.seal_channel_targets(None, editor)

    assert "secretTOKEN" not in raw_target(channel)
    assert NotificationChannel.objects.get(pk=channel.pk).target == SLACK_URL
