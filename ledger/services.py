"""Appending to the audit ledger.

Every service that changes something calls :func:`record` inside the same transaction as the
change. If the entry cannot be written the exception propagates and the change rolls back: no
action without evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from ledger.chain import hash_of, jsonable
from ledger.keys import chain_keys
from ledger.models import LedgerEntry, LedgerHead
from portal.middleware import current_request_id
from portal.people import person_label

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

SYSTEM_ACTOR_NAME = "system"


def _actor_name(actor: AbstractBaseUser | AnonymousUser | None) -> str:
    # Cut to the column: an over-long display name must not make the action itself fail.
    return person_label(actor, nobody=SYSTEM_ACTOR_NAME)[:300]


def record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    target: Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    data: dict[str, Any] | None = None,
) -> LedgerEntry:
    """Append one entry, chained with the newest ``PORTAL_LEDGER_KEYS`` key. Call it inside the
    transaction of the change it records.

    ``data`` must never hold a secret: it is shown to auditors and exported.
    """
    if target is not None:
        target_type = target._meta.label
        target_id = str(getattr(target, "uuid", None) or target.pk)
        target_repr = str(target)
    target_repr = target_repr[:300]
    # Before the lock: a missing key fails the action (fail closed) without holding the head.
    keys = chain_keys()
    with transaction.atomic():
        head, _ = LedgerHead.objects.select_for_update().get_or_create(id=1)
        sequence = head.last_sequence + 1
        created_at = timezone.now()
        actor_id = actor.pk if actor is not None and actor.is_authenticated else None
        entry = LedgerEntry(
            sequence=sequence,
            created_at=created_at,
            actor_id=actor_id,
            actor_name=_actor_name(actor),
            request_id=current_request_id(),
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_repr=target_repr,
            data=jsonable(data or {}),
            previous_hash=head.last_hash,
            key_id=keys.primary_key_id,
        )
        entry.hash = hash_of(entry, keys)
        entry.save(force_insert=True)
        head.last_sequence = sequence
        head.last_hash = entry.hash
        head.save(update_fields=["last_sequence", "last_hash", "updated_at"])
    return entry
