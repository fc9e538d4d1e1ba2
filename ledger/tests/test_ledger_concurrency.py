"""Concurrent writers: the head row's lock must hand out every sequence number exactly once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from ledger import chain, services
from ledger.models import LedgerEntry

THREADS = 8
ENTRIES_PER_THREAD = 10

needs_waiting_writers = pytest.mark.skipif(
    connection.vendor != "postgresql",
    # SQLite's in-memory test database answers "table is locked" instead of waiting.
    reason="needs a database that makes concurrent writers wait (the suite runs on PostgreSQL)",
)


@needs_waiting_writers
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_leave_an_intact_chain_without_gaps() -> None:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def write(thread: int) -> None:
        try:
            # Start together so the writers really contend for the head row.
            start.wait()
            for n in range(ENTRIES_PER_THREAD):
                services.record(actor=None, action="test.concurrent", data={"thread": thread, "n": n})
        except BaseException as error:
            errors.append(error)
        finally:
            # Each thread has its own connection; leaving it open would block the flush afterwards.
            connection.close()

    workers = [threading.Thread(target=write, args=(t,)) for t in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert not errors
    assert not any(worker.is_alive() for worker in workers)
    result = chain.verify()
    assert result.intact, result.first_break
    assert result.entries_checked == THREADS * ENTRIES_PER_THREAD
    assert list(LedgerEntry.objects.values_list("sequence", flat=True)) == list(range(1, 81))
    written = LedgerEntry.objects.values_list("data", flat=True)
    assert len({(d["thread"], d["n"]) for d in written}) == THREADS * ENTRIES_PER_THREAD


@needs_waiting_writers
@pytest.mark.django_db(transaction=True)
def test_verifying_while_others_write_never_reports_a_false_break() -> None:
    done = threading.Event()
    errors: list[BaseException] = []
    results: list[chain.LedgerVerification] = []

    def write() -> None:
        try:
            for n in range(40):
                services.record(actor=None, action="test.during_verify", data={"n": n})
        except BaseException as error:
            errors.append(error)
        finally:
            done.set()
            connection.close()

    def check() -> None:
        try:
            # The head moves on while the chain is walked; that must not look like a cut.
            while not done.is_set():
                results.append(chain.verify(batch_size=5))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=write), threading.Thread(target=check)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert not errors
    assert results
    assert [r.first_break for r in results if not r.intact] == []
    assert chain.verify().entries_checked == 40
