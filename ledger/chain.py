"""The ledger's keyed chain: how an entry's hash is taken, and the walk that proves the chain intact.

Appends are in ``ledger.services.record``; both sides take hashes here, so an entry hashed when it
is written is hashed the same way when it is verified.

Schemes, told apart by the entry's ``key_id``:

* keyed (``key_id`` names a key of ``PORTAL_LEDGER_KEYS``): HMAC-SHA256 under that key over the
  canonical JSON of the entry's fields, the key id and the previous hash. Without the key nobody
  can compute it, so an entry edited and "re-hashed" in the database no longer verifies.
* legacy (``key_id`` empty): the unkeyed SHA-256 of entries written before the chain was keyed.
  They stay verifiable, but only as the start of the chain: a legacy entry after a keyed one is a
  forgery (anyone can compute SHA-256), and the checkpoints pin the legacy part like the rest.

The chain alone cannot see entries cut from the end together with the head row, or a whole table
replaced; the signed checkpoints outside the database (``ledger.checkpoints``) can, through the
pins :func:`verify` takes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.keys import ChainKeys, UnknownLedgerKey, chain_keys
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
    key_id: str = "",
    key: bytes | None = None,
) -> str:
    """The entry's hash: HMAC-SHA256 under ``key`` (whose id is ``key_id``), or legacy SHA-256.

    Both cover a canonical JSON form of the entry's fields and the previous hash; the keyed form
    covers the key id too, so it cannot be swapped for another key's id.
    """
    if (key is None) != (key_id == ""):
        raise ValueError("a keyed hash needs both the key and its id; a legacy hash neither")
    fields = {
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
    if key is None:
        # The legacy payload exactly as it was before the chain was keyed.
        return hashlib.sha256(_canonical(fields).encode("utf-8")).hexdigest()
    payload = _canonical({**fields, "key_id": key_id})
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def hash_of(entry: LedgerEntry, keys: ChainKeys | None = None) -> str:
    """The hash ``entry`` should carry, from its own fields (equal to ``entry.hash`` unless it was edited).

    A keyed entry is hashed with the key its ``key_id`` names (from ``keys``, else the configured
    ring); :class:`~ledger.keys.UnknownLedgerKey` when that key is not configured.
    """
    key: bytes | None = None
    if entry.key_id:
        key = (keys or chain_keys()).key(entry.key_id)
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
        key_id=entry.key_id,
        key=key,
    )


@dataclass(frozen=True)
class Pin:
    """A hash the chain must have at a sequence, vouched for outside the database (a checkpoint)."""

    sequence: int
    hash: str
    source: str


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


def verify(
    *, batch_size: int = 2000, pins: Sequence[Pin] = (), keys: ChainKeys | None = None
) -> LedgerVerification:
    """Walk the whole chain in sequence order and report the first entry that breaks it.

    An edited entry no longer matches its MAC; a deleted one leaves a gap in the sequence and a
    dangling previous hash; a reordered one links to the wrong predecessor. Entries cut from the
    end (or the last entry replaced) are caught by comparing with the head row, and, when the head
    was moved back or the table emptied, by the ``pins`` (signed checkpoints): the chain must reach
    each pinned sequence with the pinned hash.
    """
    walk = _Walk(pins, keys)
    # The head is read before the entries: an append committed while the walk runs then only adds
    # entries past the head we hold, instead of looking like entries cut from the end.
    head = LedgerHead.objects.filter(id=1).first()
    head_sequence = head.last_sequence if head is not None else 0
    head_hash = head.last_hash if head is not None else GENESIS_HASH
    for entry in LedgerEntry.objects.order_by("sequence").iterator(chunk_size=batch_size):
        found = walk.step(entry)
        # The newest entry has no successor to vouch for it; the head does that instead.
        if found is None and entry.sequence == head_sequence and entry.hash != head_hash:
            found = LedgerBreak(
                entry.sequence, f"entry #{entry.sequence} is not the entry the head records (it was replaced)"
            )
        if found is not None:
            return LedgerVerification(walk.checked, found)
    found = _check_the_end(walk, head_sequence) or walk.unreached_pin()
    return LedgerVerification(walk.checked, found)


def verify_range(*, start: Pin | None, end: int, keys: ChainKeys | None = None) -> LedgerBreak | None:
    """Check the entries after ``start`` (a checkpoint already trusted) up to #``end``.

    The entry at ``start`` must still carry the pinned hash; from there each entry must link and
    carry its MAC as in :func:`verify`. This is what a new checkpoint is allowed to vouch for
    without walking the whole chain again.
    """
    walk = _Walk([start] if start is not None else [], keys)
    entries = LedgerEntry.objects.order_by("sequence")
    if start is not None and start.sequence > 0:
        first = LedgerEntry.objects.filter(sequence=start.sequence).first()
        if first is None:
            return walk.unreached_pin()
        # The stored link of the pinned entry: its own MAC and the pin vouch for it.
        walk.expected_sequence, walk.previous_hash = start.sequence, first.previous_hash
        entries = entries.filter(sequence__gte=start.sequence)
    for entry in entries.filter(sequence__lte=end).iterator(chunk_size=2000):
        found = walk.step(entry)
        if found is not None:
            return found
    if walk.last_sequence < end:
        return LedgerBreak(
            walk.last_sequence + 1, f"the chain ends at #{walk.last_sequence} but the head records #{end}"
        )
    return walk.unreached_pin()


class _Walk:
    """The state of a walk: the expected next entry, whether keyed entries began, the pins ahead."""

    def __init__(self, pins: Sequence[Pin], keys: ChainKeys | None) -> None:
        # Pins of an empty ledger (sequence 0) vouch for nothing.
        self.pins = sorted((pin for pin in pins if pin.sequence > 0), key=lambda pin: pin.sequence)
        self.next_pin = 0
        self.keys = keys
        self.expected_sequence = 1
        self.previous_hash = GENESIS_HASH
        self.keyed_since: int | None = None
        self.checked = 0

    @property
    def last_sequence(self) -> int:
        return self.expected_sequence - 1

    def _keys(self) -> ChainKeys:
        # Looked up at the first keyed entry only: a ledger of legacy entries verifies without keys.
        if self.keys is None:
            self.keys = chain_keys()
        return self.keys

    def step(self, entry: LedgerEntry) -> LedgerBreak | None:
        self.checked += 1
        sequence = entry.sequence
        if sequence != self.expected_sequence:
            return LedgerBreak(
                self.expected_sequence,
                f"entry #{self.expected_sequence} is missing (deleted); next present is #{sequence}",
            )
        if entry.previous_hash != self.previous_hash:
            return LedgerBreak(
                sequence,
                f"entry #{sequence} does not link to entry #{sequence - 1} "
                "(reordered, or its predecessor was replaced)",
            )
        if entry.key_id:
            self.keyed_since = self.keyed_since or sequence
            try:
                expected = hash_of(entry, self._keys())
            except UnknownLedgerKey as error:
                return LedgerBreak(
                    sequence, f"entry #{sequence} cannot be checked: {error} (add it back to verify)"
                )
            if not hmac.compare_digest(expected, entry.hash):
                return LedgerBreak(
                    sequence,
                    f"entry #{sequence} was edited: its content no longer matches its MAC "
                    f"under key {entry.key_id!r} (re-hashing it needs the key the database does not hold)",
                )
        elif self.keyed_since is not None:
            return LedgerBreak(
                sequence,
                f"entry #{sequence} claims the unkeyed legacy scheme after keyed entries "
                f"(from #{self.keyed_since}): it was forged or re-hashed without the key",
            )
        elif hash_of(entry) != entry.hash:
            return LedgerBreak(
                sequence, f"entry #{sequence} was edited: its content no longer matches its hash"
            )
        while self.next_pin < len(self.pins) and self.pins[self.next_pin].sequence == sequence:
            pin = self.pins[self.next_pin]
            if pin.hash != entry.hash:
                return LedgerBreak(
                    sequence,
                    f"entry #{sequence} is not the entry {pin.source} records: the chain was "
                    f"rewritten up to #{sequence} and re-hashed",
                )
            self.next_pin += 1
        self.previous_hash = entry.hash
        self.expected_sequence += 1
        return None

    def unreached_pin(self) -> LedgerBreak | None:
        """The first pin past the end of the chain: entries it vouched for are gone."""
        if self.next_pin >= len(self.pins):
            return None
        pin = self.pins[self.next_pin]
        last = self.last_sequence
        if last == 0:
            return LedgerBreak(
                1,
                f"the ledger is empty but {pin.source} records {pin.sequence} entries: the table was emptied",
            )
        return LedgerBreak(
            last + 1,
            f"the chain ends at #{last} but {pin.source} records #{pin.sequence}: "
            "entries were removed from the end (and the head moved back)",
        )


def _check_the_end(walk: _Walk, head_sequence: int) -> LedgerBreak | None:
    """Compare where the chain ends with the head row (read before the walk, and again now)."""
    last_sequence = walk.last_sequence
    if last_sequence < head_sequence:
        return LedgerBreak(
            last_sequence + 1,
            f"the chain ends at #{last_sequence} but the head records #{head_sequence}: "
            "entries were removed from the end",
        )
    if last_sequence > head_sequence:
        # Entries past the head read at the start are normal if they were appended during the walk,
        # and record() moves the head in the same transaction, so by now the head has caught up.
        # If it has not, they were inserted behind record()'s back (or the head was deleted).
        current = LedgerHead.objects.filter(id=1).first()
        if current is None:
            return LedgerBreak(
                head_sequence + 1,
                "the ledger head is missing, so entries cut from the end cannot be ruled out",
            )
        if current.last_sequence < last_sequence:
            return LedgerBreak(
                current.last_sequence + 1,
                f"entry #{current.last_sequence + 1} lies past the head (#{current.last_sequence}): "
                "it was added without going through the ledger",
            )
        if current.last_sequence == last_sequence and current.last_hash != walk.previous_hash:
            return LedgerBreak(
                last_sequence, f"entry #{last_sequence} is not the entry the head records (it was replaced)"
            )
    return None
