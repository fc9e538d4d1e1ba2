"""Signed checkpoints of the chain, kept outside the database (``ledger.anchor``).

A checkpoint says "the chain had ``entry_count`` entries, the last one #``sequence`` with hash
``head_hash`` (chained with key ``key_id``), at ``created_at``", signed with Ed25519 under a key of
``PORTAL_LEDGER_SIGNING_KEY``. Whoever controls the database can cut the tail, move the head back,
empty the table or re-hash the chain, but cannot change what an earlier checkpoint vouches for:
verification (``ledger.verification``) checks the chain against every checkpoint.

Document (JSON, one file or object per checkpoint, named so names sort by sequence and time)::

    {"format": "portal-ledger-checkpoint/1", "sequence": 42, "entry_count": 42,
     "head_hash": "<64 hex>", "key_id": "<HMAC key id of entry #42>",
     "created_at": "2026-12-04T17:00:00.000000+00:00",
     "signing_key_id": "<Ed25519 key id>", "signature": "<base64 of 64 bytes>"}

The signature covers the canonical JSON (sorted keys, no spaces) of every other field.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction
from django.utils import timezone

from ledger import chain
from ledger.anchor import Anchor
from ledger.keys import SigningKeys, chain_keys, signing_keys
from ledger.models import LedgerEntry, LedgerHead

FORMAT = "portal-ledger-checkpoint/1"
PREFIX = "checkpoint-"
#: How often beat writes a checkpoint (``portal.celery``); entries newer than that are not yet covered.
CHECKPOINT_INTERVAL_SECONDS = 600


class LedgerBroken(RuntimeError):
    """The chain is broken, so no checkpoint may vouch for it."""

    def __init__(self, found: chain.LedgerBreak) -> None:
        super().__init__(f"Ledger broken at entry #{found.sequence}: {found.reason}")
        self.found = found


@dataclass(frozen=True)
class Checkpoint:
    """One signed statement of where the chain stood."""

    sequence: int
    entry_count: int
    head_hash: str
    key_id: str
    created_at: str
    signing_key_id: str
    signature: str = ""

    @property
    def name(self) -> str:
        stamp = datetime.fromisoformat(self.created_at).astimezone(UTC)
        return f"{PREFIX}{self.sequence:015d}-{stamp:%Y%m%dT%H%M%S%fZ}.json"

    def signed_fields(self) -> bytes:
        fields = {"format": FORMAT, **asdict(self)}
        del fields["signature"]
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def document(self) -> bytes:
        return (
            json.dumps({"format": FORMAT, **asdict(self)}, sort_keys=True, indent=1).encode("utf-8") + b"\n"
        )


@dataclass(frozen=True)
class CheckpointProblem:
    """A checkpoint that cannot be trusted, and why."""

    name: str
    reason: str


def _sign(checkpoint: Checkpoint, keys: SigningKeys) -> Checkpoint:
    signature = keys.private_key(checkpoint.signing_key_id).sign(checkpoint.signed_fields())
    return Checkpoint(**{**asdict(checkpoint), "signature": base64.b64encode(signature).decode("ascii")})


def _problem_with(checkpoint: Checkpoint, verifying: Mapping[str, Ed25519PublicKey]) -> str | None:
    public_key = verifying.get(checkpoint.signing_key_id)
    if public_key is None:
        return (
            f"it cannot be checked: its signing key {checkpoint.signing_key_id!r} is not among the keys given"
        )
    try:
        public_key.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.signed_fields())
    except (InvalidSignature, binascii.Error, ValueError):
        return f"its signature is not valid under key {checkpoint.signing_key_id!r} (forged or altered)"
    return None


def parse(body: bytes) -> Checkpoint:
    """The checkpoint in ``body``; ``ValueError`` when it is not one."""
    document: Any = json.loads(body)
    if not isinstance(document, dict) or document.pop("format", None) != FORMAT:
        raise ValueError(f"it is not a {FORMAT} document")
    try:
        checkpoint = Checkpoint(**document)
    except TypeError:
        raise ValueError("its fields are not those of a checkpoint") from None
    numbers = (checkpoint.sequence, checkpoint.entry_count)
    texts = (checkpoint.head_hash, checkpoint.key_id, checkpoint.created_at, checkpoint.signing_key_id)
    if not all(type(value) is int for value in numbers) or not all(isinstance(value, str) for value in texts):
        raise ValueError("its fields do not have the types of a checkpoint")
    datetime.fromisoformat(checkpoint.created_at)  # ValueError when it is not a time
    return checkpoint


def read(
    anchor: Anchor, verifying: Mapping[str, Ed25519PublicKey] | None = None
) -> tuple[list[Checkpoint], list[CheckpointProblem]]:
    """Every checkpoint in ``anchor`` whose signature holds, and the problems with the others.

    ``verifying``: public keys by id, e.g. kept by the auditors (``ledger_public_key``); by default
    those of ``PORTAL_LEDGER_SIGNING_KEY``.
    """
    keys = signing_keys().verifying_keys() if verifying is None else verifying
    good: list[Checkpoint] = []
    problems: list[CheckpointProblem] = []
    for name in sorted(anchor.names()):
        if not name.startswith(PREFIX):
            continue
        try:
            checkpoint = parse(anchor.get(name))
        except (ValueError, UnicodeDecodeError) as error:
            problems.append(CheckpointProblem(name, f"it cannot be read: {error}"))
            continue
        problem = _problem_with(checkpoint, keys)
        # The name is not signed; a renamed copy would be reported under a name it does not have.
        if problem is None and name != checkpoint.name:
            problem = f"its name does not match its content (expected {checkpoint.name})"
        if problem is not None:
            problems.append(CheckpointProblem(name, problem))
        else:
            good.append(checkpoint)
    return good, problems


def latest(anchor: Anchor) -> Checkpoint | None:
    """The newest checkpoint with a valid signature (by sequence, then time), or None.

    Only the names are listed; the newest documents are read until one verifies, so a forged file
    dropped into the anchor cannot become the base of the next checkpoint.
    """
    keys = signing_keys().verifying_keys()
    for name in sorted((n for n in anchor.names() if n.startswith(PREFIX)), reverse=True):
        try:
            checkpoint = parse(anchor.get(name))
        except (ValueError, UnicodeDecodeError):
            continue
        if _problem_with(checkpoint, keys) is None:
            return checkpoint
    return None


def pins(checkpoints: Sequence[Checkpoint]) -> list[chain.Pin]:
    """What the checkpoints vouch for, as pins for :func:`ledger.chain.verify`."""
    return [chain.Pin(c.sequence, c.head_hash, f"checkpoint {c.name}") for c in checkpoints]


def write(
    anchor: Anchor, *, latest: Checkpoint | None = None, keys: SigningKeys | None = None
) -> Checkpoint | None:
    """Sign where the chain stands now and store it in ``anchor``; None when nothing was added since
    ``latest`` (the newest checkpoint already there).

    The entries since ``latest`` are verified first (:class:`LedgerBroken` if they do not hold): a
    checkpoint must never vouch for a chain that was already rewritten.
    """
    keys = keys or signing_keys()
    with transaction.atomic():
        # The head row locked: no append moves it while the new entries are checked and counted.
        head = LedgerHead.objects.select_for_update().filter(id=1).first()
        sequence = head.last_sequence if head is not None else 0
        if latest is not None and latest.sequence == sequence:
            return None
        start = chain.Pin(latest.sequence, latest.head_hash, f"checkpoint {latest.name}") if latest else None
        found = chain.verify_range(start=start, end=sequence, keys=chain_keys())
        if found is not None:
            raise LedgerBroken(found)
        last = LedgerEntry.objects.filter(sequence=sequence).first()
        checkpoint = _sign(
            Checkpoint(
                sequence=sequence,
                entry_count=LedgerEntry.objects.count(),
                head_hash=last.hash if last is not None else chain.GENESIS_HASH,
                key_id=last.key_id if last is not None else "",
                created_at=timezone.now().astimezone(UTC).isoformat(timespec="microseconds"),
                signing_key_id=keys.primary_key_id,
            ),
            keys,
        )
    anchor.put(checkpoint.name, checkpoint.document())
    return checkpoint
