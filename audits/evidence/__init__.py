"""Signed evidence bundles for auditors: ``make_bundle`` (``bundle``) writes the zip of a period's
reports, ledger slice and controls with a signed manifest; ``verify_bundle`` (``verify``) says valid
or names the first changed, added or removed file, a bad signature, an unknown key, or the first
ledger entry that does not chain."""

from __future__ import annotations

from audits.evidence.bundle import BundleMade, make_bundle, write_bundle
from audits.evidence.controls import CONTROLS
from audits.evidence.signing import evidence_keys, verifying_keys
from audits.evidence.verify import BundleVerification, verify_bundle

__all__ = [
    "CONTROLS",
    "BundleMade",
    "BundleVerification",
    "evidence_keys",
    "make_bundle",
    "verify_bundle",
    "verifying_keys",
    "write_bundle",
]
