"""Ledger entries record the id of the HMAC key they were chained with.

Adding a column with a constant default is a catalogue change in PostgreSQL (no row is rewritten,
so the append-only row trigger does not fire). Existing entries get ``""``: the legacy, unkeyed
SHA-256 scheme, which verification still accepts as the start of the chain.
"""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="key_id",
            field=models.CharField(blank=True, default="", editable=False, max_length=32),
        ),
    ]
