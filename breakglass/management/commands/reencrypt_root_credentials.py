"""``manage.py reencrypt_root_credentials``: finish a key rotation."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from breakglass.adapters import authenticators_reencrypt
from breakglass.crypto import CryptoError
from breakglass.notifications.services import notification_channel_secrets_reencrypt
from breakglass.sealing import keyring
from breakglass.secrets import root_credentials_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every root password stored in the portal under the newest key in "
        "PORTAL_ENCRYPTION_KEYS (the first entry), with the notification channels' secrets and the MFA "
        "secrets (TOTP, recovery codes) sealed under the same keys. Run it after prepending a new key; "
        "remove an old key only once this reports 0. Safe to run again; each re-encryption is written "
        "to the ledger."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=100,
            help="Credentials locked and re-encrypted per transaction (default 100).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            primary_key_id = keyring().primary_key_id
            count = root_credentials_reencrypt(batch_size=options["batch_size"])
            # Channel targets (webhook URLs) and signing secrets are sealed with the same keys: move
            # them too, or the channels stop once the old key is removed.
            channels = notification_channel_secrets_reencrypt()
            # So are TOTP secrets and recovery-code seeds: without this, second factors stop working.
            authenticators = authenticators_reencrypt(batch_size=options["batch_size"])
        except CryptoError as error:
            # The messages are written to be shown (no key material); a traceback adds nothing.
            raise CommandError(str(error)) from error
        noun = "root credential" if count == 1 else "root credentials"
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} {noun} under key {primary_key_id}"))
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the secrets of {channels} notification channels"))
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {authenticators} MFA authenticator secrets"))
