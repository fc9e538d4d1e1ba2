"""The audit ledger: hash chaining, verification of tampered chains, immutability, failing closed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from django.db.backends.utils import CursorWrapper

from breakglass.tests.factories import AwsAccountFactory
from ledger import chain, keys, services
from ledger.models import LedgerEntry, LedgerHead, LedgerImmutableError
from portal.middleware import set_request_id

pytestmark = pytest.mark.django_db

TABLE = LedgerEntry._meta.db_table
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only"
)


@contextmanager
def tampering() -> Iterator[CursorWrapper]:
    """A raw cursor that gets past the append-only triggers, as a database superuser could.

    ``session_replication_role = replica`` skips ordinary triggers; it is reset afterwards so the
    rest of the test sees the protected table again.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("RESET session_replication_role")


def record_several(count: int) -> list[LedgerEntry]:
    return [
        services.record(
            actor=None, action=f"test.step_{n}", target_type="test", target_id=str(n), data={"n": n}
        )
        for n in range(1, count + 1)
    ]


def rehashed(entry: LedgerEntry, **changes: Any) -> str:
    """The hash a forger would compute for ``entry`` with ``changes`` applied, even holding the key.

    These tests are about the chain's links; forgers without the key are in test_ledger_anchor.py.
    """
    fields = {
        name: getattr(entry, name)
        for name in (
            "sequence",
            "created_at",
            "actor_id",
            "actor_name",
            "request_id",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "data",
            "previous_hash",
        )
    }
    fields = {**fields, **changes}
    return chain.entry_hash(**fields, key_id=entry.key_id, key=keys.chain_keys().key(entry.key_id))


@pytest.fixture
def request_id() -> Iterator[str]:
    set_request_id("req-0123456789abcdef")
    yield "req-0123456789abcdef"
    set_request_id("-")


# --- Writing ----------------------------------------------------------------------------------


def test_the_first_entry_links_to_the_genesis_hash_of_64_zeros() -> None:
    first = services.record(actor=None, action="test.first")

    assert first.sequence == 1
    assert first.previous_hash == "0" * 64 == chain.GENESIS_HASH


def test_each_entry_holds_the_hash_of_the_one_before() -> None:
    first, second, third = record_several(3)

    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert len({first.hash, second.hash, third.hash}) == 3


def test_the_head_remembers_the_newest_entry() -> None:
    *_, last = record_several(3)

    head = LedgerHead.objects.get()
    assert (head.last_sequence, head.last_hash) == (3, last.hash)


def test_the_stored_hash_is_the_hash_of_the_stored_fields() -> None:
    recorded = services.record(actor=None, action="test.hash", data={"nested": {"b": [1, 2], "a": "x"}})

    stored = LedgerEntry.objects.get(sequence=recorded.sequence)
    assert stored.hash == recorded.hash
    assert stored.hash == chain.entry_hash(
        sequence=stored.sequence,
        created_at=stored.created_at,
        actor_id=stored.actor_id,
        actor_name=stored.actor_name,
        request_id=stored.request_id,
        action=stored.action,
        target_type=stored.target_type,
        target_id=stored.target_id,
        target_repr=stored.target_repr,
        data=stored.data,
        previous_hash=stored.previous_hash,
        key_id=stored.key_id,
        key=keys.chain_keys().key(stored.key_id),
    )
    assert stored.key_id == keys.chain_keys().primary_key_id


def test_it_snapshots_the_actor_and_describes_a_target_model(auditor: Any) -> None:
    account = AwsAccountFactory(name="payments-prod")

    entry = services.record(actor=auditor, action="account.viewed", target=account)

    assert entry.actor_id == auditor.pk
    assert auditor.get_username() in entry.actor_name
    assert entry.target_type == "breakglass.AwsAccount"
    assert entry.target_id == str(account.uuid)
    assert entry.target_repr == str(account)


def test_an_action_without_a_person_is_recorded_as_the_system() -> None:
    entry = services.record(actor=None, action="test.system")

    assert entry.actor_id is None
    assert entry.actor_name == services.SYSTEM_ACTOR_NAME


def test_the_request_id_of_the_current_request_lands_on_the_entry(request_id: str) -> None:
    entry = services.record(actor=None, action="test.request")

    assert LedgerEntry.objects.get(pk=entry.pk).request_id == request_id


def test_large_floats_in_data_still_verify_after_postgresql_rewrites_them() -> None:
    # jsonb gives 1e16 back as the integer 10000000000000000; the hash must not depend on that.
    services.record(actor=None, action="test.numbers", data={"big": 1e16, "huge": 1.5e300, "small": 0.1})

    assert chain.verify().intact


def test_it_refuses_data_that_is_not_json() -> None:
    with pytest.raises(ValueError):
        services.record(actor=None, action="test.nan", data={"ratio": float("nan")})

    assert not LedgerEntry.objects.exists()


def test_a_change_is_rolled_back_when_its_ledger_entry_cannot_be_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing_save(self: LedgerEntry, *args: Any, **kwargs: Any) -> None:
        raise DatabaseError("the ledger cannot be written")

    monkeypatch.setattr(LedgerEntry, "save", failing_save)

    def change_with_evidence() -> None:
        # How every service writes: the change and its entry in one transaction.
        with transaction.atomic():
            Group.objects.create(name="changed without evidence")
            services.record(actor=None, action="test.fail_closed")

    with pytest.raises(DatabaseError, match="cannot be written"):
        change_with_evidence()

    assert not Group.objects.filter(name="changed without evidence").exists()
    assert not LedgerEntry.objects.exists()
    assert not LedgerHead.objects.filter(last_sequence__gt=0).exists()


# --- Verifying --------------------------------------------------------------------------------


def test_an_empty_ledger_is_intact() -> None:
    result = chain.verify()

    assert result.intact
    assert result.entries_checked == 0
    assert result.first_break is None


def test_a_ledger_written_only_by_record_is_intact() -> None:
    record_several(5)

    result = chain.verify()

    assert result.intact
    assert result.entries_checked == 5


def test_it_verifies_across_batches() -> None:
    record_several(7)

    assert chain.verify(batch_size=2).intact


def test_it_names_an_entry_whose_data_was_edited() -> None:
    record_several(5)
    with tampering() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET data = %s WHERE sequence = 3", ['{"n": 999}'])

    result = chain.verify()

    assert result.first_break is not None
    assert result.first_break.sequence == 3
    assert "edited" in result.first_break.reason


def test_it_names_an_entry_whose_action_was_edited() -> None:
    record_several(5)
    with tampering() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET action = 'test.harmless' WHERE sequence = 2")

    result = chain.verify()

    assert result.first_break is not None
    assert result.first_break.sequence == 2
    assert "#2" in result.first_break.reason


def test_it_names_the_successor_of_an_entry_edited_and_rehashed() -> None:
    entries = record_several(5)
    with tampering() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET action = 'test.innocent', hash = %s WHERE sequence = 2",
            [rehashed(entries[1], action="test.innocent")],
        )

    result = chain.verify()

    # Entry 2 is consistent with itself now; entry 3 still points at its real predecessor.
    assert result.first_break is not None
    assert result.first_break.sequence == 3
    assert "does not link" in result.first_break.reason


def test_it_names_the_missing_sequence_when_an_entry_in_the_middle_was_deleted() -> None:
    record_several(5)
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE sequence = 3")

    result = chain.verify()

    assert result.first_break is not None
    assert result.first_break.sequence == 3
    assert "missing" in result.first_break.reason


def test_it_names_the_first_of_two_entries_whose_order_was_swapped() -> None:
    record_several(5)
    with tampering() as cursor:
        # Through a spare number: sequence is unique.
        cursor.execute(f"UPDATE {TABLE} SET sequence = 1000000 WHERE sequence = 2")
        cursor.execute(f"UPDATE {TABLE} SET sequence = 2 WHERE sequence = 4")
        cursor.execute(f"UPDATE {TABLE} SET sequence = 4 WHERE sequence = 1000000")

    result = chain.verify()

    assert result.first_break is not None
    assert result.first_break.sequence == 2
    assert "does not link" in result.first_break.reason


def test_it_notices_entries_cut_from_the_end_through_the_head() -> None:
    record_several(5)
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE sequence >= 4")

    result = chain.verify()

    assert result.entries_checked == 3
    assert result.first_break is not None
    assert result.first_break.sequence == 4
    assert "removed from the end" in result.first_break.reason


def test_it_notices_the_newest_entry_replaced_with_a_rehashed_one() -> None:
    *_, last = record_several(3)
    with tampering() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET action = 'test.innocent', hash = %s WHERE sequence = 3",
            [rehashed(last, action="test.innocent")],
        )

    result = chain.verify()

    assert result.first_break is not None
    assert result.first_break.sequence == 3
    assert "head" in result.first_break.reason


def test_it_notices_a_deleted_head() -> None:
    record_several(2)
    LedgerHead.objects.all().delete()

    result = chain.verify()

    assert not result.intact


def test_it_notices_an_entry_appended_without_going_through_record() -> None:
    *_, last = record_several(2)
    forged = LedgerEntry(
        sequence=3,
        created_at=last.created_at,
        actor_name="system",
        request_id="-",
        action="test.forged",
        data={},
        previous_hash=last.hash,
        key_id=last.key_id,
    )
    forged.hash = rehashed(forged)
    forged.save(force_insert=True)

    result = chain.verify()

    assert result.first_break is not None
    assert result.first_break.sequence == 3
    assert "past the head" in result.first_break.reason


# --- Immutability -----------------------------------------------------------------------------


def test_saving_an_existing_entry_is_refused() -> None:
    entry = services.record(actor=None, action="test.original")
    entry.action = "test.rewritten"

    with pytest.raises(LedgerImmutableError):
        entry.save()

    assert LedgerEntry.objects.get(pk=entry.pk).action == "test.original"


def test_deleting_an_entry_is_refused() -> None:
    entry = services.record(actor=None, action="test.kept")

    with pytest.raises(LedgerImmutableError):
        entry.delete()

    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_updating_entries_through_a_queryset_is_refused() -> None:
    record_several(2)

    with pytest.raises(LedgerImmutableError):
        LedgerEntry.objects.filter(sequence=1).update(action="test.rewritten")

    assert not LedgerEntry.objects.filter(action="test.rewritten").exists()


def test_deleting_entries_through_a_queryset_is_refused() -> None:
    record_several(2)

    with pytest.raises(LedgerImmutableError):
        LedgerEntry.objects.all().delete()

    assert LedgerEntry.objects.count() == 2


def test_an_upsert_through_bulk_create_is_refused() -> None:
    entry = services.record(actor=None, action="test.original")
    entry.pk = None
    entry.action = "test.rewritten"

    with pytest.raises(LedgerImmutableError):
        LedgerEntry.objects.bulk_create(
            [entry], update_conflicts=True, unique_fields=["sequence"], update_fields=["action"]
        )


@on_postgresql
@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {TABLE} SET action = 'test.rewritten' WHERE sequence = 1",
        f"DELETE FROM {TABLE} WHERE sequence = 1",
        f"TRUNCATE {TABLE}",
    ],
    ids=["update", "delete", "truncate"],
)
def test_the_database_refuses_raw_sql_that_changes_entries(statement: str) -> None:
    record_several(2)

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert LedgerEntry.objects.count() == 2
    assert chain.verify().intact


@on_postgresql
def test_the_database_still_accepts_new_entries() -> None:
    record_several(3)

    assert chain.verify().intact
