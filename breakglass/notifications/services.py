"""Channel administration, writes: add, switch on or off, delete, test, and re-seal signing secrets.

Each change is for portal administrators with MFA and leaves a ledger entry, which never holds the
target (a webhook URL is a secret) nor the signing secret.
"""

from __future__ import annotations

import secrets as random
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from breakglass import sealing
from breakglass import secrets as sealed
from breakglass.choices import ChannelKind, DeliveryStatus
from breakglass.crypto import CryptoError
from breakglass.models import AwsAccount, Notification, NotificationChannel
from breakglass.notifications import senders
from breakglass.notifications.messages import TEST_EVENT, channel_body, channel_test_wording
from breakglass.notifications.outbox import save_and_deliver_on_commit
from breakglass.notifications.targets import validate_target
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _require_admin(actor: User) -> None:
    if not policy.may_manage_inventory(actor):
        raise DomainError("Only a portal administrator with MFA may configure notification channels.")


def _channel_data(channel: NotificationChannel) -> dict[str, Any]:
    # Never the target (a webhook URL is a secret) nor the signing secret.
    return {
        "kind": channel.kind,
        "name": channel.name,
        "account_id": channel.account.account_id if channel.account is not None else None,
    }


def notification_channel_create(
    *, actor: User, account: AwsAccount | None, kind: str, name: str, target: str
) -> tuple[NotificationChannel, str]:
    """Add a channel to ``account`` (or a global one with ``account=None``).

    Returns the channel and, for a JSON webhook, its signing secret, generated here. Show it to the
    administrator once: only its sealed form is stored, and nothing can show it again.
    """
    _require_admin(actor)
    if kind not in ChannelKind.values:
        raise DomainError({"kind": "Choose a kind of channel."})
    name = name.strip()
    if not name:
        raise DomainError({"name": "Give the channel a name."})
    try:
        target = validate_target(kind, target)
    except ValidationError as error:
        raise DomainError({"target": error.messages}) from None
    channel = NotificationChannel(account=account, kind=kind, name=name, target=target)
    secret = ""
    if kind == ChannelKind.WEBHOOK:
        secret = random.token_urlsafe(32)
        # The channel's UUID is set on construction, so the secret is bound to it before saving.
        senders.seal_signing_secret(channel=channel, secret=secret)
    with transaction.atomic():
        channel.save()
        ledger.record(
            actor=actor, action="notification_channel.created", target=channel, data=_channel_data(channel)
        )
    return channel, secret


def notification_channel_set_enabled(
    *, actor: User, channel: NotificationChannel, enabled: bool
) -> NotificationChannel:
    """Switch a channel on or off. Recorded, since silencing a channel hides what follows."""
    _require_admin(actor)
    with transaction.atomic():
        locked = (
            NotificationChannel.objects.select_for_update(of=("self",))
            .select_related("account")
            .get(pk=channel.pk)
        )
        if locked.enabled == enabled:
            return locked
        locked.enabled = enabled
        locked.save(update_fields=["enabled", "updated_at"])
        ledger.record(
            actor=actor,
            action="notification_channel.enabled" if enabled else "notification_channel.disabled",
            target=locked,
            data=_channel_data(locked),
        )
    return locked


def notification_channel_delete(*, actor: User, channel: NotificationChannel) -> None:
    """Delete a channel. Its past notifications stay (without the channel) as evidence; those
    still queued are marked failed, since they can no longer be delivered."""
    _require_admin(actor)
    with transaction.atomic():
        locked = (
            NotificationChannel.objects.select_for_update(of=("self",))
            .select_related("account")
            .get(pk=channel.pk)
        )
        dropped = locked.notifications.filter(status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.FAILED,
            last_error="the channel was deleted before delivery",
            updated_at=timezone.now(),
        )
        ledger.record(
            actor=actor,
            action="notification_channel.deleted",
            target=locked,
            data={**_channel_data(locked), "queued_dropped": dropped},
        )
        locked.delete()


def notification_channel_send_test(*, actor: User, channel: NotificationChannel) -> Notification:
    """Queue a test message to ``channel`` so an administrator sees it arrive (or fail)."""
    _require_admin(actor)
    if not channel.enabled:
        raise DomainError("Enable the channel before sending it a test message.")
    wording = channel_test_wording(channel=channel, actor=actor)
    notification = Notification(
        event=TEST_EVENT,
        channel=channel,
        subject=wording.subject,
        body=channel_body(channel, wording),
    )
    with transaction.atomic():
        (created,) = save_and_deliver_on_commit([notification])
        ledger.record(
            actor=actor,
            action="notification_channel.test_queued",
            target=channel,
            data=_channel_data(channel),
        )
    return created


def notification_channel_secrets_reencrypt(*, actor: User | None = None) -> int:
    """Re-seal every channel target and signing secret not sealed under the key ring's primary key.

    Run it with ``reencrypt_root_credentials`` when rotating ``PORTAL_ENCRYPTION_KEYS``, before the
    old key is removed; otherwise channels stop (their URL or secret no longer opens). Returns how
    many channels were re-sealed.
    """
    ring = sealed.keyring()
    reencrypted = 0
    with transaction.atomic():
        # The target as stored (sealed): the field itself hands back the opened URL.
        channels = (
            NotificationChannel.objects.select_for_update(of=("self",))
            .select_related("account")
            .annotate(sealed_target=Cast("target", output_field=TextField()))
            .order_by("pk")
        )
        for channel in channels:
            resealed: list[str] = []
            try:
                old_key_id = sealing.sealed_text_key_id(channel.sealed_target)
                if old_key_id != ring.primary_key_id:
                    resealed.append("target")  # saving seals it again under the primary key
                if channel.signing_secret is not None:
                    token = bytes(channel.signing_secret)
                    if ring.needs_reencryption(token):
                        old_key_id = ring.key_id_of(token)
                        channel.signing_secret = ring.reencrypt(
                            token, aad=senders.signing_secret_aad(channel)
                        )
                        resealed.append("signing_secret")
            except CryptoError as error:
                raise DomainError(
                    f"The secrets of channel {channel.name!r} cannot be re-sealed "
                    f"({type(error).__name__}): is their old key still in PORTAL_ENCRYPTION_KEYS?"
                ) from None
            if not resealed:
                continue
            channel.save(update_fields=[*resealed, "updated_at"])
            ledger.record(
                actor=actor,
                action="notification_channel.secret_reencrypted",
                target=channel,
                data={
                    **_channel_data(channel),
                    "resealed": resealed,
                    "from_key": old_key_id,
                    "to_key": ring.primary_key_id,
                },
            )
            reencrypted += 1
    return reencrypted


__all__ = [
    "notification_channel_create",
    "notification_channel_delete",
    "notification_channel_secrets_reencrypt",
    "notification_channel_send_test",
    "notification_channel_set_enabled",
]
