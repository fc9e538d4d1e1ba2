"""``manage.py verify_evidence FILE.zip [--public-key KEYID:BASE64 ...]``: exit 0 when the bundle is
valid, 1 naming the first problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.evidence import verify_bundle, verifying_keys


class Command(BaseCommand):
    help = (
        "Check an evidence bundle: the manifest's signature, every file against the manifest's SHA-256, "
        "and the chain of the ledger slice. Exit 0 when valid; 1 naming the first changed, added or "
        "removed file, a bad signature, an unknown key or the first ledger entry that does not chain; "
        "2 when the bundle or a key cannot be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bundle", type=Path)
        parser.add_argument(
            "--public-key",
            action="append",
            default=[],
            help=(
                "KEYID:BASE64 as evidence_public_key printed it (repeatable), instead of "
                "PORTAL_EVIDENCE_SIGNING_KEY's: keys kept outside the portal"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bundle: Path = options["bundle"]
        if not bundle.is_file():
            raise CommandError(f"{bundle} is not a file", returncode=2)
        try:
            keys = verifying_keys(options["public_key"])
        except ImproperlyConfigured as error:
            raise CommandError(str(error), returncode=2) from None
        result = verify_bundle(bundle, public_keys=keys)
        if not result.valid:
            # CommandError prints to stderr and exits 1, which is what a script or CI checks.
            raise CommandError(str(result), returncode=1)
        self.stdout.write(self.style.SUCCESS(str(result)))
