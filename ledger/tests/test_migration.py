"""Moving the ledger out of ``audits`` keeps an existing database's entries, and its chain verifies.

The database is taken back to where it was before the move (the ledger's models in ``audits``),
entries are appended there through the historical models as the old code did, and the database is
migrated forward again: the same rows are the ledger app's entries, the chain is intact, new
entries extend it, and the append-only triggers still guard the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps.registry import Apps
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from ledger import chain, services
from ledger.models import LedgerEntry, LedgerHead

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [("audits", "0003_cloudtrail_evidence"), ("ledger", None)]


def migrate(targets: list[tuple[str, str | None]]) -> Apps:
    """Migrate to ``targets`` and return the models as they are there."""
    # A new executor each time: it reads which migrations are applied when it is made.
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    # (app, None) means "none of this app", which a project state leaves out by itself.
    return executor.loader.project_state([node for node in targets if node[1] is not None]).apps


@pytest.fixture
def before_the_move() -> Iterator[Apps]:
    # The ledger app's content type exists, as on any database migrated after the move once.
    ContentType.objects.get_for_model(LedgerEntry)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        yield migrate(BEFORE_THE_MOVE)
    finally:
        # Whatever the test did, the next test gets the database at the newest migration.
        migrate(latest)
        ContentType.objects.clear_cache()


def append_as_before_the_move(apps: Apps, count: int) -> list[str]:
    """Append ``count`` chained entries through the historical ``audits`` models; their hashes."""
    entry_model: Any = apps.get_model("audits", "LedgerEntry")
    head_model: Any = apps.get_model("audits", "LedgerHead")
    previous_hash = chain.GENESIS_HASH
    hashes = []
    with transaction.atomic():
        for sequence in range(1, count + 1):
            fields: dict[str, Any] = {
                "sequence": sequence,
                "created_at": timezone.now(),
                "actor_id": None,
                "actor_name": services.SYSTEM_ACTOR_NAME,
                "request_id": f"req-{sequence}",
                "action": "test.before_the_move",
                "target_type": "test",
                "target_id": str(sequence),
                "target_repr": f"step {sequence}",
                "data": {"n": sequence, "nested": {"b": [1, 2.5], "a": "x"}},
                "previous_hash": previous_hash,
            }
            entry = entry_model.objects.create(**fields, hash=chain.entry_hash(**fields))
            previous_hash = entry.hash
            hashes.append(entry.hash)
        head_model.objects.update_or_create(
            id=1, defaults={"last_sequence": count, "last_hash": previous_hash}
        )
    return hashes


def test_entries_written_before_the_move_are_the_ledger_apps_and_still_verify(
    before_the_move: Apps,
) -> None:
    assert not LedgerEntry.objects.exists()
    hashes = append_as_before_the_move(before_the_move, 3)

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert list(LedgerEntry.objects.values_list("hash", flat=True)) == hashes
    assert LedgerHead.objects.get().last_sequence == 3
    result = chain.verify()
    assert result.intact
    assert result.entries_checked == 3
    # The chain goes on from where the old code left it.
    appended = services.record(actor=None, action="test.after_the_move")
    assert appended.sequence == 4
    assert appended.previous_hash == hashes[-1]
    assert chain.verify().intact


def test_the_append_only_triggers_still_guard_the_moved_table(before_the_move: Apps) -> None:
    append_as_before_the_move(before_the_move, 1)

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    for statement in (f"UPDATE {table} SET action = 'test.forged'", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(statement)
    assert chain.verify().intact


def test_the_content_types_follow_the_models_both_ways(before_the_move: Apps) -> None:
    in_audits = ContentType.objects.filter(app_label="audits", model__in=["ledgerentry", "ledgerhead"])
    in_ledger = ContentType.objects.filter(app_label="ledger", model__in=["ledgerentry", "ledgerhead"])
    assert in_audits.count() == 2
    assert not in_ledger.exists()

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert in_ledger.count() == 2
    assert not in_audits.exists()
