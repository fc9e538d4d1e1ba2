"""Channel administration, writes: who may, the sealed signing secret, the ledger entries, the
queued notifications a deletion drops, test messages, and re-sealing secrets after a key rotation."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest

from breakglass.models import AccessRequest, Notification, NotificationChannel
from breakglass.notifications import senders, services
from breakglass.notifications.senders import PermanentDeliveryError
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["approver", "custodian", "auditor", "requester", "outsider"])
def test_only_administrators_may_add_a_channel(request: pytest.FixtureRequest, persona: str) -> None:
    with pytest.raises(DomainError, match="Only a portal administrator"):
        services.notification_channel_create(
            actor=request.getfixturevalue(persona),
            account=None,
            kind="email",
            name="team",
            target="team@example.org",
        )
    assert not NotificationChannel.objects.exists()


@pytest.mark.parametrize(
    ("kind", "name", "target", "field"),
    [
        ("pager", "team", "team@example.org", "kind"),
        ("email", "  ", "team@example.org", "name"),
        ("webhook", "siem", "file:///etc/passwd", "target"),
    ],
)
def test_a_channel_with_a_bad_field_is_refused_naming_the_field(
    administrator: Any, kind: str, name: str, target: str, field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        services.notification_channel_create(
            actor=administrator, account=None, kind=kind, name=name, target=target
        )
    assert field in caught.value.message_dict
    assert not NotificationChannel.objects.exists()


def test_the_signing_secret_is_stored_sealed_and_bound_to_its_channel(
    administrator: Any, account: Any
) -> None:
    channel, secret = services.notification_channel_create(
        actor=administrator,
        account=account,
        kind="webhook",
        name="siem",
        target="https://siem.example.org/in",
    )
    stored = bytes(NotificationChannel.objects.get(pk=channel.pk).signing_secret)
    assert secret.encode() not in stored
    assert senders.open_signing_secret(NotificationChannel.objects.get(pk=channel.pk)) == secret.encode()

    other, _ = services.notification_channel_create(
        actor=administrator,
        account=account,
        kind="webhook",
        name="other",
        target="https://siem.example.org/2",
    )
    other.signing_secret = stored
    with pytest.raises(PermanentDeliveryError) as caught:
        senders.open_signing_secret(other)
    assert "PORTAL_ENCRYPTION_KEYS" in str(caught.value)


def test_deleting_a_channel_fails_its_queued_notifications_and_keeps_the_sent_ones(
    administrator: Any, access_request: AccessRequest
) -> None:
    channel, _ = services.notification_channel_create(
        actor=administrator, account=access_request.account, kind="email", name="team", target="t@example.org"
    )
    waiting = Notification.objects.create(request=access_request, event="request.created", channel=channel)
    sent = Notification.objects.create(
        request=access_request, event="request.created", channel=channel, status="sent"
    )

    services.notification_channel_delete(actor=administrator, channel=channel)

    waiting.refresh_from_db()
    sent.refresh_from_db()
    assert (waiting.status, waiting.channel, waiting.last_error) == (
        "failed",
        None,
        "the channel was deleted before delivery",
    )
    assert (sent.status, sent.channel) == ("sent", None)
    entry = LedgerEntry.objects.get(action="notification_channel.deleted")
    assert entry.data["queued_dropped"] == 1


def test_switching_a_channel_to_its_current_state_records_nothing(administrator: Any) -> None:
    channel, _ = services.notification_channel_create(
        actor=administrator, account=None, kind="email", name="team", target="t@example.org"
    )
    services.notification_channel_set_enabled(actor=administrator, channel=channel, enabled=True)
    assert not LedgerEntry.objects.filter(action__startswith="notification_channel.enabled").exists()


def test_a_test_message_is_queued_to_an_enabled_channel_only(
    administrator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    channel, _ = services.notification_channel_create(
        actor=administrator, account=None, kind="email", name="team", target="t@example.org"
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = services.notification_channel_send_test(actor=administrator, channel=channel)
    assert (notification.event, notification.status, notification.request) == ("channel.test", "queued", None)
    assert len(callbacks) == 1
    assert LedgerEntry.objects.filter(action="notification_channel.test_queued").count() == 1

    disabled = services.notification_channel_set_enabled(actor=administrator, channel=channel, enabled=False)
    with pytest.raises(DomainError, match="Enable the channel"):
        services.notification_channel_send_test(actor=administrator, channel=disabled)


def test_rotating_the_portal_key_reseals_channel_secrets(
    administrator: Any, account: Any, settings: Any
) -> None:
    old_entry = settings.PORTAL_ENCRYPTION_KEYS
    channel, secret = services.notification_channel_create(
        actor=administrator,
        account=account,
        kind="webhook",
        name="siem",
        target="https://siem.example.org/in",
    )
    new_entry = "k2:" + base64.b64encode(os.urandom(32)).decode()
    settings.PORTAL_ENCRYPTION_KEYS = f"{new_entry},{old_entry}"

    assert services.notification_channel_secrets_reencrypt(actor=administrator) == 1
    assert services.notification_channel_secrets_reencrypt(actor=administrator) == 0

    settings.PORTAL_ENCRYPTION_KEYS = new_entry
    assert senders.open_signing_secret(NotificationChannel.objects.get(pk=channel.pk)) == secret.encode()
