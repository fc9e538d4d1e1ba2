"""The audit ledger's two tables, and the record of each verification of its chain. Its logic is
in ``ledger.services`` (appends), ``ledger.chain`` (hashing and verification) and
``ledger.verification_runs`` (the verifications' rows).

The ledger's tables keep the names they had when the ledger lived in ``audits`` (``audits_ledgerentry``,
``audits_ledgerhead``): existing databases keep their entries, their indexes and the append-only
triggers on them without any data being moved.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KeyTransform

from ledger.choices import VerificationTrigger
from portal.models import TimeStamped


class LedgerImmutableError(RuntimeError):
    """Raised on any attempt to change or remove a ledger entry."""


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise LedgerImmutableError("ledger entries cannot be updated")

    def delete(self) -> NoReturn:
        raise LedgerImmutableError("ledger entries cannot be deleted")

    def bulk_create(
        self,
        objs: Iterable[LedgerEntry],
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Collection[str] | None = None,
        unique_fields: Collection[str] | None = None,
    ) -> list[LedgerEntry]:
        # An upsert (ON CONFLICT DO UPDATE) would rewrite existing entries behind save()'s back.
        if update_conflicts:
            raise LedgerImmutableError("ledger entries cannot be updated")
        return super().bulk_create(objs, batch_size=batch_size, ignore_conflicts=ignore_conflicts)


class LedgerEntry(models.Model):
    """One append-only, hash-chained record of something a person or the system did.

    ``hash`` covers every other field and the previous entry's hash, so editing, deleting or
    reordering any entry breaks the chain from that point on (``manage.py verify_ledger``). It is an
    HMAC under the key ``key_id`` names (from the environment, never stored here); an empty
    ``key_id`` marks an entry of the legacy, unkeyed SHA-256 chain.
    """

    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    created_at = models.DateTimeField(editable=False)
    # Not a real foreign key: removing a user must never rewrite (and so break) the ledger.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        editable=False,
    )
    actor_name = models.CharField(max_length=300, editable=False)
    request_id = models.CharField(max_length=64, editable=False)
    action = models.CharField(max_length=100, db_index=True, editable=False)
    target_type = models.CharField(max_length=100, editable=False)
    target_id = models.CharField(max_length=100, db_index=True, editable=False)
    target_repr = models.CharField(max_length=300, editable=False)
    data = models.JSONField(default=dict, editable=False)
    previous_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)
    # The id of the PORTAL_LEDGER_KEYS key the entry was chained with; "" for legacy entries.
    key_id = models.CharField(max_length=32, blank=True, default="", editable=False)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        # The table the ledger was created with in ``audits``: renaming it would mean re-creating
        # the append-only triggers, and for a while a table nobody guards.
        db_table = "audits_ledgerentry"
        ordering = ["sequence"]
        verbose_name_plural = "ledger entries"
        # Named as Django named it under ``audits``, so the existing index is the model's index.
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audits_ledg_target__9b5bc3_idx"),
            # The ledger page and report filtered by account read ``data``'s account keys
            # (``selectors.LedgerFilter``): without these, every entry's JSON is read (0.33 s at 300,000).
            models.Index(KeyTransform("account_id", "data"), name="ledger_data_account_id"),
            models.Index(KeyTransform("aws_account_id", "data"), name="ledger_data_aws_account_id"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.target_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise LedgerImmutableError("ledger entries cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise LedgerImmutableError("ledger entries cannot be deleted")


class LedgerHead(models.Model):
    """The single row that serialises appends and remembers the newest entry.

    Locking this row orders concurrent writers; its copy of the last sequence and hash lets
    verification notice entries cut from the end of the chain.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "audits_ledgerhead"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="ledger_head_singleton")]

    def __str__(self) -> str:
        return f"ledger head at #{self.last_sequence}"


class ChainVerification(TimeStamped):
    """One check of the whole chain against the signed checkpoints, and what it found.

    Written by the hourly task, by ``manage.py verify_ledger`` and when an auditor or administrator
    asks from the ledger page, so the page can say when the chain was last found intact, or name
    the first broken entry. A row without ``finished_at`` is a verification still running (or one
    whose worker died; the page shows the newest finished one beside it). Not part of the chain:
    the check reads the chain, and a row per hour would only lengthen it.
    """

    trigger = models.CharField(max_length=20, choices=VerificationTrigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    entries_checked = models.PositiveBigIntegerField(default=0)
    checkpoints_checked = models.PositiveIntegerField(default=0)
    anchor = models.CharField(max_length=500, blank=True)
    # None until finished; then whether the chain and the checkpoints held.
    intact = models.BooleanField(null=True, blank=True)
    # The sequence of the first broken entry (0 when the problem is the anchor or the checkpoints).
    broken_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    notes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-finished_at"], name="ledger_verif_finished_idx")]

    def __str__(self) -> str:
        state = "running" if self.intact is None else ("intact" if self.intact else "broken")
        return f"chain verification {self.created_at:%Y-%m-%d %H:%M} ({state})"
