"""Checking an evidence bundle: the signature over the manifest, then every member against the
manifest, then the chain of the ledger slice. The first problem found is named; nothing is trusted
that the signature does not cover (a bundle re-signed with another key is an unknown key).

Members are read in chunks and never past the size the manifest records, so an uploaded bundle
cannot make the portal hold more than a chunk of it in memory.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audits.evidence.bundle import FORMAT, LEDGER_SLICE_MEMBER, MANIFEST_MEMBER
from audits.evidence.signing import SIGNATURE_MEMBER, parse_signature, verifying_keys

_CHUNK = 1 << 16
#: A manifest lists a few dozen files; anything much larger is not one of ours.
_MANIFEST_LIMIT = 1 << 20


@dataclass(frozen=True)
class BundleVerification:
    """Valid, or the first problem: ``where`` names the file, ``manifest.sig`` or the ledger entry."""

    problem: str = ""
    where: str = ""
    files_checked: int = 0
    entries_checked: int = 0
    signing_key_id: str = ""
    # The SHA-256 of the manifest as found in the bundle ("" when there was none to read).
    manifest_sha256: str = ""

    @property
    def valid(self) -> bool:
        return not self.problem

    def __str__(self) -> str:
        if self.valid:
            return (
                f"Evidence bundle valid: {self.files_checked} files and {self.entries_checked} ledger "
                f"entries match the manifest signed with key {self.signing_key_id!r}"
            )
        return f"Evidence bundle not valid: {self.problem}"


class _Invalid(Exception):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(problem)
        self.where = where
        self.problem = problem


def verify_bundle(
    source: Path | IO[bytes], *, public_keys: Mapping[str, Ed25519PublicKey] | None = None
) -> BundleVerification:
    """Check the bundle in ``source`` with ``public_keys`` (by id; default: those of
    ``PORTAL_EVIDENCE_SIGNING_KEY``)."""
    keys = dict(public_keys) if public_keys is not None else verifying_keys()
    state: dict[str, Any] = {"files": 0, "entries": 0, "key": "", "manifest": ""}
    try:
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as error:
            raise _Invalid("", f"it is not a zip archive ({error})") from None
        with archive:
            _check(archive, keys, state)
    except _Invalid as invalid:
        return BundleVerification(
            invalid.problem, invalid.where, state["files"], state["entries"], state["key"], state["manifest"]
        )
    return BundleVerification("", "", state["files"], state["entries"], state["key"], state["manifest"])


def _check(archive: zipfile.ZipFile, keys: Mapping[str, Ed25519PublicKey], state: dict[str, Any]) -> None:
    names = [info.filename for info in archive.infolist()]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise _Invalid(name, f"{name} was added: the archive holds it twice")
        seen.add(name)
    for required in (MANIFEST_MEMBER, SIGNATURE_MEMBER):
        if required not in seen:
            raise _Invalid(required, f"{required} was removed")
    manifest = _read_small(archive, MANIFEST_MEMBER)
    state["manifest"] = hashlib.sha256(manifest).hexdigest()
    try:
        key_id, signature = parse_signature(_read_small(archive, SIGNATURE_MEMBER))
    except ValueError as error:
        raise _Invalid(SIGNATURE_MEMBER, f"{SIGNATURE_MEMBER} was changed: {error}") from None
    state["key"] = key_id
    public_key = keys.get(key_id)
    if public_key is None:
        raise _Invalid(
            SIGNATURE_MEMBER,
            f"unknown key: the manifest is signed with key {key_id!r}, which is not among the keys "
            f"given ({', '.join(sorted(keys)) or 'none'}); it was re-signed, or its key is not configured",
        )
    try:
        public_key.verify(signature, manifest)
    except InvalidSignature:
        raise _Invalid(
            SIGNATURE_MEMBER,
            f"bad signature: {MANIFEST_MEMBER} or {SIGNATURE_MEMBER} was changed "
            f"(the signature does not hold under key {key_id!r})",
        ) from None
    files = _manifest_files(manifest, key_id)
    for name in names:
        if name in (MANIFEST_MEMBER, SIGNATURE_MEMBER):
            continue
        if name not in files:
            raise _Invalid(name, f"{name} was added: the manifest does not list it")
        _check_member(archive, name, files[name])
        state["files"] += 1
    for name in files:
        if name not in seen:
            raise _Invalid(name, f"{name} was removed: the manifest lists it")
    if LEDGER_SLICE_MEMBER in files:
        _check_slice(archive, state)


def _read_small(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        with archive.open(name) as member:
            body = member.read(_MANIFEST_LIMIT + 1)
    except (zipfile.BadZipFile, OSError) as error:
        raise _Invalid(name, f"{name} was changed: it cannot be read ({error})") from None
    if len(body) > _MANIFEST_LIMIT:
        raise _Invalid(name, f"{name} was changed: it is too large to be one")
    return body


def _manifest_files(manifest: bytes, key_id: str) -> dict[str, dict[str, Any]]:
    # Signed by a key we trust, so its content is ours; still checked, a key may sign a bad manifest.
    try:
        document = json.loads(manifest)
        files = document["files"]
        if document.get("format") != FORMAT or not isinstance(files, dict):
            raise ValueError(f"it is not a {FORMAT} manifest")
        if not all(isinstance(recorded, dict) for recorded in files.values()):
            raise ValueError("its files are not listed with their digest and size")
        if document.get("signing_key_id") != key_id:
            raise ValueError(f"it names key {document.get('signing_key_id')!r}, the signature {key_id!r}")
    except (ValueError, KeyError, TypeError) as error:
        raise _Invalid(MANIFEST_MEMBER, f"{MANIFEST_MEMBER} is not valid: {error}") from None
    return files


def _check_member(archive: zipfile.ZipFile, name: str, recorded: dict[str, Any]) -> None:
    expected_size = int(recorded.get("size", -1))
    digest = hashlib.sha256()
    size = 0
    try:
        with archive.open(name) as member:
            while chunk := member.read(_CHUNK):
                size += len(chunk)
                if size > expected_size:
                    raise _Invalid(name, f"{name} was changed: it is longer than the manifest records")
                digest.update(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise _Invalid(name, f"{name} was changed: it cannot be read ({error})") from None
    if size != expected_size or digest.hexdigest() != recorded.get("sha256"):
        raise _Invalid(name, f"{name} was changed: its SHA-256 is not the one the manifest records")


def _check_slice(archive: zipfile.ZipFile, state: dict[str, Any]) -> None:
    """Each entry of the slice must follow the one before: next sequence, previous hash = its hash.

    The entries' own MACs need the ledger's HMAC key, which a bundle never holds; the signature
    vouches for their content, this walk for their order and links.
    """
    previous: dict[str, Any] | None = None
    with archive.open(LEDGER_SLICE_MEMBER) as member:
        for number, raw in enumerate(member, start=1):
            try:
                entry = json.loads(raw)
                sequence, previous_hash, entry_hash = entry["sequence"], entry["previous_hash"], entry["hash"]
            except (ValueError, KeyError, TypeError):
                raise _Invalid(
                    f"{LEDGER_SLICE_MEMBER} line {number}",
                    f"{LEDGER_SLICE_MEMBER} line {number} is not a ledger entry",
                ) from None
            if previous is not None:
                where = f"ledger entry #{sequence}"
                if sequence != previous["sequence"] + 1:
                    raise _Invalid(
                        where,
                        f"{where} does not chain: it follows #{previous['sequence']} "
                        "(entries are missing or reordered)",
                    )
                if previous_hash != previous["hash"]:
                    raise _Invalid(
                        where, f"{where} does not chain: its previous hash is not the hash of #{sequence - 1}"
                    )
            previous = {"sequence": sequence, "hash": entry_hash}
            state["entries"] += 1
