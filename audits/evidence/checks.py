"""Checking an uploaded bundle is itself a ledger entry (``evidence.bundle_checked``): who checked,
the manifest's SHA-256 as found in the bundle, and valid or the first problem. An auditor's check is
evidence that the evidence was looked at."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from django.db import transaction

from audits.evidence.verify import BundleVerification, verify_bundle
from ledger import services as ledger

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: How much of the first problem the ledger keeps (it names a file or an entry first).
_PROBLEM_CHARS = 500


def evidence_bundle_check(*, user: User, source: IO[bytes], name: str) -> BundleVerification:
    """Verify the uploaded bundle with the portal's keys and record the check in the ledger."""
    result = verify_bundle(source)
    with transaction.atomic():
        ledger.record(
            actor=user,
            action="evidence.bundle_checked",
            target_type="evidence_bundle",
            target_id=result.manifest_sha256,
            target_repr=f"uploaded evidence bundle {name[:100]}",
            data={
                "manifest_sha256": result.manifest_sha256,
                "valid": result.valid,
                "problem": result.problem[:_PROBLEM_CHARS],
                "where": result.where[:200],
                "signing_key_id": result.signing_key_id,
                "files_checked": result.files_checked,
                "entries_checked": result.entries_checked,
            },
        )
    return result
