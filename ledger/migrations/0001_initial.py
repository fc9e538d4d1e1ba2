"""The ledger's models join the ledger app, in Django's state only.

The tables were created by ``audits.0001_initial`` and made append-only by PostgreSQL triggers in
``audits.0002_ledger_append_only``, when the ledger lived in ``audits``. They keep their names
(``audits_ledgerentry``, ``audits_ledgerhead``), their rows, their indexes and those triggers: no
SQL runs here, so a database that already holds entries keeps every one of them, and its chain
still verifies. ``audits.0004_ledger_moves_to_its_own_app`` removes the models from ``audits``'s
state. The triggers now belong to this app even though the migration that created them keeps its
place in ``audits`` (an applied migration cannot change apps); the ledger's own later migrations
are where they would be changed.

The content types (and so the admin's permissions) of the two models follow them to this app.
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("ledgerentry", "ledgerhead")


def _move_content_types(apps: Any, from_label: str, to_label: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        # A database migrated before its content types were ever created has nothing to move; one
        # that already has the new content type keeps it (the old one is then merely stale).
        if content_type.objects.filter(app_label=to_label, model=model).exists():
            continue
        content_type.objects.filter(app_label=from_label, model=model).update(app_label=to_label)


def content_types_to_ledger(apps: Any, schema_editor: Any) -> None:
    _move_content_types(apps, "audits", "ledger")


def content_types_to_audits(apps: Any, schema_editor: Any) -> None:
    _move_content_types(apps, "ledger", "audits")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # The tables and their append-only triggers exist from here on, on fresh databases too.
        ("audits", "0002_ledger_append_only"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LedgerHead",
                    fields=[
                        (
                            "id",
                            models.PositiveSmallIntegerField(
                                default=1, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("last_sequence", models.PositiveBigIntegerField(default=0)),
                        ("last_hash", models.CharField(default="0" * 64, max_length=64)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "db_table": "audits_ledgerhead",
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(("id", 1)), name="ledger_head_singleton")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="LedgerEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("sequence", models.PositiveBigIntegerField(editable=False, unique=True)),
                        ("created_at", models.DateTimeField(editable=False)),
                        ("actor_name", models.CharField(editable=False, max_length=300)),
                        ("request_id", models.CharField(editable=False, max_length=64)),
                        ("action", models.CharField(db_index=True, editable=False, max_length=100)),
                        ("target_type", models.CharField(editable=False, max_length=100)),
                        ("target_id", models.CharField(db_index=True, editable=False, max_length=100)),
                        ("target_repr", models.CharField(editable=False, max_length=300)),
                        ("data", models.JSONField(default=dict, editable=False)),
                        ("previous_hash", models.CharField(editable=False, max_length=64)),
                        ("hash", models.CharField(editable=False, max_length=64, unique=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "audits_ledgerentry",
                        "verbose_name_plural": "ledger entries",
                        "ordering": ["sequence"],
                        "indexes": [
                            models.Index(fields=["target_type", "target_id"], name="audits_ledg_target__9b5bc3_idx")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_ledger, content_types_to_audits, elidable=False),
    ]
