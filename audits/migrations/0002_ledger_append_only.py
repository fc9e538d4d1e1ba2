"""Make the audit ledger append-only in PostgreSQL itself, not only in the ORM.

A BEFORE UPDATE OR DELETE row trigger and a BEFORE TRUNCATE statement trigger refuse any change
to existing entries, so raw SQL, a shell or another application cannot rewrite history either.
A superuser can still bypass triggers (``session_replication_role = replica``); the hash chain
is what catches that. SQLite has no equivalent worth having: there the ORM guards alone apply.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

FUNCTION = "audits_ledger_append_only"
ROW_TRIGGER = "audits_ledgerentry_no_update_delete"
TRUNCATE_TRIGGER = "audits_ledgerentry_no_truncate"


def _table(apps: Any, schema_editor: Any) -> str:
    return schema_editor.quote_name(apps.get_model("audits", "LedgerEntry")._meta.db_table)


def create_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    table = _table(apps, schema_editor)
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit ledger is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME;
        END;
        $$
        """,
        # No parameters: the % in RAISE are plpgsql's placeholders, not the driver's.
        params=None,
    )
    schema_editor.execute(
        f"CREATE TRIGGER {ROW_TRIGGER} BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
    )


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    table = _table(apps, schema_editor)
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON {table}")
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {ROW_TRIGGER} ON {table}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
