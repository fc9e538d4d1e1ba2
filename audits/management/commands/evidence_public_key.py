"""``manage.py evidence_public_key``: the public keys that verify the evidence bundles."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audits.evidence import evidence_keys


class Command(BaseCommand):
    help = (
        "Print the Ed25519 public key of each PORTAL_EVIDENCE_SIGNING_KEY key ('keyid:base64', newest "
        "first), to give the auditors: with it they check a bundle's signature "
        "(verify_evidence --public-key)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for key_id, public_key in evidence_keys().public_keys().items():
            self.stdout.write(f"{key_id}:{public_key}")
