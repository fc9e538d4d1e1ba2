"""Issue 8, item 2: the ledger rewritten by its table owner must not verify.

Each test disables the append-only triggers as the owner of the table can
(``ALTER TABLE ... DISABLE TRIGGER ALL``), rewrites the ledger, and expects ``verify_ledger`` to exit
1 naming what is wrong. Before the chain was keyed and checkpointed, all three attacks verified as
"intact" (the tail cut with the head moved back; everything deleted: "intact: 0 entries"; an entry
edited and the chain re-hashed with ``chain.entry_hash``).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ledger import chain, checkpoints, services
from ledger.anchor import configured_anchor
from ledger.keys import chain_keys
from ledger.management.commands.verify_ledger import Command
from ledger.models import LedgerEntry, LedgerHead

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only"),
]

ENTRIES = LedgerEntry._meta.db_table
HEAD = LedgerHead._meta.db_table


@contextmanager
def as_the_table_owner() -> Iterator[Any]:
    """A cursor with the append-only triggers disabled, as the owner of the tables can do."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {ENTRIES} DISABLE TRIGGER ALL")
        try:
            yield cursor
        finally:
            cursor.execute(f"ALTER TABLE {ENTRIES} ENABLE TRIGGER ALL")


def record_several(count: int) -> list[LedgerEntry]:
    return [services.record(actor=None, action=f"test.step_{n}", data={"n": n}) for n in range(1, count + 1)]


def checkpoint() -> checkpoints.Checkpoint:
    anchor = configured_anchor()
    written = checkpoints.write(anchor, latest=checkpoints.latest(anchor))
    assert written is not None
    return written


def verify_fails() -> str:
    """Run ``verify_ledger``; it must exit 1. Its message."""
    with pytest.raises(CommandError) as raised:
        call_command("verify_ledger", "--no-alert")
    assert raised.value.returncode == 1
    return str(raised.value)


def rehash_from(sequence: int, *, key_id: str, key: bytes | None) -> None:
    """Re-hash every entry from ``sequence`` on with ``chain.entry_hash`` and move the head along."""
    with as_the_table_owner() as cursor:
        previous = LedgerEntry.objects.get(sequence=sequence - 1).hash if sequence > 1 else chain.GENESIS_HASH
        for entry in LedgerEntry.objects.filter(sequence__gte=sequence).order_by("sequence"):
            forged = chain.entry_hash(
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
                previous_hash=previous,
                key_id=key_id,
                key=key,
            )
            cursor.execute(
                f"UPDATE {ENTRIES} SET previous_hash = %s, hash = %s, key_id = %s WHERE sequence = %s",
                [previous, forged, key_id, entry.sequence],
            )
            previous = forged
        cursor.execute(f"UPDATE {HEAD} SET last_hash = %s", [previous])


def test_a_tail_cut_with_the_head_moved_back_fails_verification() -> None:
    entries = record_several(6)
    checkpoint()
    with as_the_table_owner() as cursor:
        cursor.execute(f"DELETE FROM {ENTRIES} WHERE sequence > 4")
        cursor.execute(f"UPDATE {HEAD} SET last_sequence = 4, last_hash = %s", [entries[3].hash])

    message = verify_fails()

    assert "entry #5" in message
    assert "the chain ends at #4 but checkpoint" in message
    assert "removed from the end" in message


def test_an_emptied_ledger_fails_verification() -> None:
    record_several(5)
    checkpoint()
    with as_the_table_owner() as cursor:
        cursor.execute(f"DELETE FROM {ENTRIES}")
        cursor.execute(f"DELETE FROM {HEAD}")

    message = verify_fails()

    assert "the ledger is empty but checkpoint" in message
    assert "records 5 entries" in message
    assert "emptied" in message


def test_an_entry_edited_and_the_chain_rehashed_without_the_key_fails_verification() -> None:
    record_several(6)
    checkpoint()
    with as_the_table_owner() as cursor:
        cursor.execute(f"UPDATE {ENTRIES} SET action = 'test.innocent' WHERE sequence = 3")
    # The forger keeps the key id but must guess the key.
    rehash_from(3, key_id=chain_keys().primary_key_id, key=os.urandom(32))

    message = verify_fails()

    assert "entry #3 was edited" in message
    assert "MAC" in message


def test_an_entry_rehashed_as_a_legacy_unkeyed_entry_fails_verification() -> None:
    record_several(6)
    with as_the_table_owner() as cursor:
        cursor.execute(f"UPDATE {ENTRIES} SET action = 'test.innocent' WHERE sequence = 3")
    # SHA-256 needs no key: the forger claims the legacy scheme from #3 on (no checkpoint needed).
    rehash_from(3, key_id="", key=None)

    message = verify_fails()

    assert "entry #3 claims the unkeyed legacy scheme after keyed entries" in message


def test_the_whole_chain_rehashed_as_legacy_is_caught_by_the_checkpoint() -> None:
    record_several(4)
    checkpoint()
    with as_the_table_owner() as cursor:
        cursor.execute(f"UPDATE {ENTRIES} SET action = 'test.innocent' WHERE sequence = 1")
    rehash_from(1, key_id="", key=None)

    message = verify_fails()

    assert "entry #4 is not the entry checkpoint" in message
    assert "re-hashed" in message


def test_even_a_forger_holding_the_hmac_key_is_caught_by_the_checkpoint() -> None:
    record_several(5)
    checkpoint()
    with as_the_table_owner() as cursor:
        cursor.execute(f"UPDATE {ENTRIES} SET action = 'test.innocent' WHERE sequence = 2")
    keys = chain_keys()
    rehash_from(2, key_id=keys.primary_key_id, key=keys.key(keys.primary_key_id))

    message = verify_fails()

    assert "entry #5 is not the entry checkpoint" in message


def test_from_the_shell_the_command_exits_1_with_the_reason_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    record_several(3)
    checkpoint()
    with as_the_table_owner() as cursor:
        cursor.execute(f"DELETE FROM {ENTRIES}")
        cursor.execute(f"DELETE FROM {HEAD}")

    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "verify_ledger", "--no-alert"])

    assert exited.value.code == 1
    assert "emptied" in capsys.readouterr().err


def test_a_checkpoint_with_a_bad_signature_fails_verification(settings: Any) -> None:
    record_several(3)
    written = checkpoint()
    path = Path(settings.PORTAL_LEDGER_ANCHOR) / written.name
    path.chmod(0o644)
    path.write_text(path.read_text().replace('"sequence": 3', '"sequence": 2'))

    message = verify_fails()

    assert f"checkpoint {written.name}" in message
    assert "signature is not valid" in message


def test_a_checkpoint_signed_with_another_key_fails_verification(settings: Any) -> None:
    record_several(2)
    checkpoint()
    # A forger with their own signing key (under the real key's id) writes a checkpoint that would
    # bless a rewritten chain.
    real_key_id = os.environ["PORTAL_LEDGER_SIGNING_KEY"].partition(":")[0]
    settings.PORTAL_LEDGER_SIGNING_KEY = f"{real_key_id}:{base64.b64encode(os.urandom(32)).decode()}"
    services.record(actor=None, action="test.more")
    forged = checkpoint()
    settings.PORTAL_LEDGER_SIGNING_KEY = os.environ["PORTAL_LEDGER_SIGNING_KEY"]

    message = verify_fails()

    assert forged.name in message
    assert "signature is not valid" in message


def test_missing_checkpoints_fail_once_they_are_due(settings: Any) -> None:
    record_several(2)
    settings.PORTAL_LEDGER_CHECKPOINT_GRACE_SECONDS = 0

    message = verify_fails()

    assert "no checkpoint found" in message
    assert "checkpoint_ledger" in message


def test_no_checkpoint_yet_is_said_but_not_a_failure() -> None:
    record_several(2)
    out = StringIO()

    call_command("verify_ledger", "--no-alert", stdout=out)

    assert "no checkpoint" in out.getvalue()
    assert "Ledger intact: 2 entries, 0 checkpoints" in out.getvalue()


def test_a_checkpoint_is_refused_for_a_chain_broken_since_the_last_one() -> None:
    record_several(3)
    checkpoint()
    record_several(2)
    with as_the_table_owner() as cursor:
        cursor.execute(f"UPDATE {ENTRIES} SET action = 'test.innocent' WHERE sequence = 4")

    with pytest.raises(checkpoints.LedgerBroken, match="#4"):
        checkpoint()
    with pytest.raises(CommandError, match="no checkpoint written"):
        call_command("checkpoint_ledger")


def test_an_auditor_with_the_public_key_kept_elsewhere_catches_a_replaced_signing_key(
    settings: Any, tmp_path: Path
) -> None:
    record_several(3)
    checkpoint()
    printed = StringIO()
    call_command("ledger_public_key", stdout=printed)
    kept_elsewhere = printed.getvalue().strip()
    # Someone holding the environment and the anchor folder swaps the signing key and re-signs.
    real_key_id = kept_elsewhere.partition(":")[0]
    settings.PORTAL_LEDGER_SIGNING_KEY = f"{real_key_id}:{base64.b64encode(os.urandom(32)).decode()}"
    settings.PORTAL_LEDGER_ANCHOR = str(tmp_path / "re-signed")
    checkpoint()
    call_command("verify_ledger", "--no-alert", stdout=StringIO())  # the portal's own keys agree

    with pytest.raises(CommandError) as raised:
        call_command("verify_ledger", "--no-alert", "--public-key", kept_elsewhere)

    assert raised.value.returncode == 1
    assert "signature is not valid" in str(raised.value)


def test_the_public_key_kept_elsewhere_verifies_an_intact_ledger() -> None:
    record_several(2)
    checkpoint()
    printed = StringIO()
    call_command("ledger_public_key", stdout=printed)
    out = StringIO()

    call_command("verify_ledger", "--no-alert", "--public-key", printed.getvalue().strip(), stdout=out)

    assert "Ledger intact: 2 entries, 1 checkpoint in" in out.getvalue()
