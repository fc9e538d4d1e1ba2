"""The runtime database role of docs/operations.md: it can append but cannot switch the triggers off.

The role is made in the test database with the grants deploy/postgres/runtime-role.sql gives the
portal's runtime role on the ledger tables (SELECT and INSERT on the entries, and UPDATE of the
head row as well, which ``record`` moves).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from ledger import chain, services
from ledger.models import LedgerEntry, LedgerHead

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles are PostgreSQL's"),
]

ROLE = "portal_runtime_test"
GRANTS = Path(__file__).resolve().parents[2] / "deploy" / "postgres" / "runtime-grants.sql"
ENTRIES = LedgerEntry._meta.db_table
HEAD = LedgerHead._meta.db_table


@pytest.fixture
def runtime_role() -> Iterator[None]:
    """Inside the test's transaction: the role, its grants, and SET ROLE to it (all rolled back)."""
    with connection.cursor() as cursor:
        cursor.execute(GRANTS.read_text().replace("portal_app", ROLE))
        cursor.execute(f"SET ROLE {ROLE}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def test_the_grants_leave_the_runtime_role_read_and_append_only_on_the_ledger(runtime_role: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) "
            "FROM information_schema.role_table_grants WHERE grantee = %s AND table_name IN (%s, %s) "
            "GROUP BY table_name ORDER BY table_name",
            [ROLE, ENTRIES, HEAD],
        )
        assert cursor.fetchall() == [(ENTRIES, "INSERT,SELECT"), (HEAD, "INSERT,SELECT,UPDATE")]


def refused(statement: str) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


def test_the_runtime_role_can_record_and_verify(runtime_role: None) -> None:
    services.record(actor=None, action="test.as_runtime")
    services.record(actor=None, action="test.as_runtime")

    assert chain.verify().intact


@pytest.mark.parametrize(
    "statement",
    [
        f"ALTER TABLE {ENTRIES} DISABLE TRIGGER ALL",
        f"ALTER TABLE {ENTRIES} DISABLE TRIGGER USER",
        "SET session_replication_role = replica",
        f"UPDATE {ENTRIES} SET action = 'test.rewritten'",
        f"DELETE FROM {ENTRIES}",
        f"TRUNCATE {ENTRIES}",
        f"DROP TABLE {ENTRIES}",
    ],
    ids=["disable-all", "disable-user", "replica", "update", "delete", "truncate", "drop"],
)
def test_the_runtime_role_cannot_rewrite_the_ledger(runtime_role: None, statement: str) -> None:
    services.record(actor=None, action="test.kept")

    refused(statement)

    assert LedgerEntry.objects.filter(action="test.kept").count() == 1
