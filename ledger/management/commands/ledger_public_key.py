"""``manage.py ledger_public_key``: the public keys that verify the ledger's checkpoints."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ledger.keys import signing_keys


class Command(BaseCommand):
    help = (
        "Print the Ed25519 public key of each PORTAL_LEDGER_SIGNING_KEY key ('keyid:base64', newest "
        "first), to keep outside the portal: with it anyone can check the checkpoints' signatures."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for key_id, public_key in signing_keys().public_keys().items():
            self.stdout.write(f"{key_id}:{public_key}")
