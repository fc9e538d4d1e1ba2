"""``manage.py generate_encryption_key``: a new key-encryption key for PORTAL_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from breakglass.crypto import KeyConfigurationError, generate_key_entry
from breakglass.secrets import keyring


class Command(BaseCommand):
    help = (
        "Print a new 'keyid:base64key' entry for PORTAL_ENCRYPTION_KEYS. The entry goes to stdout "
        "alone (so it can be captured); how to install it goes to stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--key-id",
            help="Id for the new key (1-32 of A-Z a-z 0-9 _ -). Default: k<date>-<random>.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key_id: str | None = options["key_id"]
        try:
            configured = keyring().key_ids
        except KeyConfigurationError:
            # Nothing (usable) configured yet: this is how the first key is made.
            configured = ()
        if key_id is not None and key_id in configured:
            raise CommandError(f"key id {key_id!r} is already in PORTAL_ENCRYPTION_KEYS; choose another")
        try:
            entry = generate_key_entry(key_id)
        except KeyConfigurationError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(entry)
        if configured:
            how = (
                "Prepend it to PORTAL_ENCRYPTION_KEYS (newest first; the first key encrypts, all decrypt):\n"
                '  PORTAL_ENCRYPTION_KEYS="<new entry>,<current value>"\n'
                "restart the portal, run `python manage.py reencrypt_root_credentials`, and remove an old\n"
                "key only after that reports 0."
            )
        else:
            how = 'Set it as the first key:\n  PORTAL_ENCRYPTION_KEYS="<new entry>"'
        self.stderr.write(
            how + "\nKeep it in your secret store, never in the repository: without it the sealed "
            "root passwords cannot be recovered.",
            # Guidance, not an error: keep Django's red error styling off it.
            style_func=lambda text: text,
        )
