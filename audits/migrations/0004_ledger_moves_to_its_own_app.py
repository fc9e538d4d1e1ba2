"""The ledger's models leave ``audits`` for the ``ledger`` app, in Django's state only.

The tables, their rows and their append-only triggers stay exactly as they are; see
``ledger.0001_initial``, which takes the models over first so the ledger is never absent from the
state.
"""

from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0003_cloudtrail_evidence"),
        ("ledger", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="LedgerEntry"),
                migrations.DeleteModel(name="LedgerHead"),
            ],
            database_operations=[],
        ),
    ]
