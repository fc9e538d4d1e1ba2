"""The ledger's hash chain: how an entry's hash is taken, and the walk that proves the chain intact.

Appends are in ``ledger.services.record``; both sides take hashes here, so an entry hashed when it
is written is hashed the same way when it is verified.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.models import LedgerEntry, LedgerHead

GENESIS_HASH = "0" * 64


def _canonical(value: Any) -> str:
    # allow_nan=False: NaN and Infinity are not JSON and PostgreSQL's jsonb refuses them; failing
    # here names the problem instead of a database error later.
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str, allow_nan=False
    )


def jsonable(value: Any) -> Any:
    """``value`` as the database will give it back, so a hash taken now still matches later.

    jsonb stores numbers as ``numeric`` and prints a large float such as ``1e16`` as
    ``10000000000000000``, which reads back as an int; integral floats are therefore made ints up
    front, on both sides of the comparison.
    """
    return _integral_floats_to_int(json.loads(_canonical(value)))


def _integral_floats_to_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral_floats_to_int(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral_floats_to_int(item) for item in value]
    return value


def entry_hash(
    *,
    sequence: int,
    created_at: datetime,
    actor_id: int | None,
    actor_name: str,
    request_id: str,
    action: str,
    target_type: str,
    target_id: str,
    target_repr: str,
    data: Any,
    previous_hash: str,
) -> str:
    """SHA-256 over a canonical JSON form of the entry's fields and the previous hash."""
    payload = _canonical(
        {
            "sequence": sequence,
            "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor_name": actor_name,
            "request_id": request_id,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "target_repr": target_repr,
            "data": jsonable(data),
            "previous_hash": previous_hash,
        }
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def hash_of(entry: LedgerEntry) -> str:
    """The hash ``entry`` should carry, from its own fields (equal to ``entry.hash`` unless it was edited)."""
    return entry_hash(
        sequence=entry.sequence,
        created_at=entry.created_at,
        actor_id=entry.actor_id,
        actor_name=entry.actor_name,
        request_id=entry.request_id,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        target_repr=entry.target_repr,
        data=entry.data,
        previous_hash=entry.previous_hash,
    )


@dataclass(frozen=True)
class LedgerBreak:
    """The first place where the chain does not hold, in words an auditor can act on."""

    sequence: int
    reason: str


@dataclass(frozen=True)
class LedgerVerification:
    """What a walk of the chain found: how many entries it read and the first break, if any."""

    entries_checked: int
    first_break: LedgerBreak | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


def verify(*, batch_size: int = 2000) -> LedgerVerification:
    """Walk the whole chain in sequence order and report the first entry that breaks it.

    An edited entry no longer matches its hash; a deleted one leaves a gap in the sequence and a
    dangling previous hash; a reordered one links to the wrong predecessor. Entries cut from the
    end (or the last entry replaced) are caught by comparing with the head row.
    """
    # The head is read before the entries: an append committed while the walk runs then only adds
    # entries past the head we hold, instead of looking like entries cut from the end.
    head = LedgerHead.objects.filter(id=1).first()
    head_sequence = head.last_sequence if head is not None else 0
    head_hash = head.last_hash if head is not None else GENESIS_HASH
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    checked = 0
    for entry in LedgerEntry.objects.order_by("sequence").iterator(chunk_size=batch_size):
        checked += 1
        if entry.sequence != expected_sequence:
            return LedgerVerification(
                checked,
                LedgerBreak(
                    expected_sequence,
                    f"entry #{expected_sequence} is missing (deleted); next present is #{entry.sequence}",
                ),
            )
        if entry.previous_hash != previous_hash:
            return LedgerVerification(
                checked,
                LedgerBreak(
                    entry.sequence,
                    f"entry #{entry.sequence} does not link to entry #{entry.sequence - 1} "
                    "(reordered, or its predecessor was replaced)",
                ),
            )
        if hash_of(entry) != entry.hash:
            return LedgerVerification(
                checked,
                LedgerBreak(
                    entry.sequence,
                    f"entry #{entry.sequence} was edited: its content no longer matches its hash",
                ),
            )
        # The newest entry has no successor to vouch for it; the head does that instead.
        if entry.sequence == head_sequence and entry.hash != head_hash:
            return LedgerVerification(
                checked,
                LedgerBreak(
                    entry.sequence,
                    f"entry #{entry.sequence} is not the entry the head records (it was replaced)",
                ),
            )
        previous_hash = entry.hash
        expected_sequence += 1
    last_sequence = expected_sequence - 1
    if last_sequence < head_sequence:
        return LedgerVerification(
            checked,
            LedgerBreak(
                last_sequence + 1,
                f"the chain ends at #{last_sequence} but the head records #{head_sequence}: "
                "entries were removed from the end",
            ),
        )
    if last_sequence > head_sequence:
        # Entries past the head read at the start are normal if they were appended during the walk,
        # and record() moves the head in the same transaction, so by now the head has caught up.
        # If it has not, they were inserted behind record()'s back (or the head was deleted).
        current = LedgerHead.objects.filter(id=1).first()
        if current is None:
            return LedgerVerification(
                checked,
                LedgerBreak(
                    head_sequence + 1,
                    "the ledger head is missing, so entries cut from the end cannot be ruled out",
                ),
            )
        if current.last_sequence < last_sequence:
            return LedgerVerification(
                checked,
                LedgerBreak(
                    current.last_sequence + 1,
                    f"entry #{current.last_sequence + 1} lies past the head (#{current.last_sequence}): "
                    "it was added without going through the ledger",
                ),
            )
        if current.last_sequence == last_sequence and current.last_hash != previous_hash:
            return LedgerVerification(
                checked,
                LedgerBreak(
                    last_sequence,
                    f"entry #{last_sequence} is not the entry the head records (it was replaced)",
                ),
            )
    return LedgerVerification(checked, None)
