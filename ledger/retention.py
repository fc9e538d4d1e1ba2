"""Purging operational rows in bounded batches, each batch a ledger entry in its own transaction.

Evidence is never purged by the portal: the ledger, root events, access requests with their
transitions, approvals and reveals, findings and the reports made are kept whatever the settings
(PCI DSS 10.5.1 asks for twelve months; the portal keeps them for good and leaves their end to the
database's owner). Only the operational rows an app hands in here go: delivered or failed
notifications (``breakglass.retention``) and finished ingestion runs no ledger entry points at
(``audits.retention``). This module knows no app: each app builds the queryset of its own old rows,
and this loop deletes them at most ``BATCH_SIZE`` at a time, never loading a whole table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Min, Model, QuerySet

from ledger import services as ledger

#: Rows deleted per transaction: short locks, and a crash loses at most one batch's work (none of it
#: half-done, since the ledger entry commits with the delete).
BATCH_SIZE = 1000
PURGED_ACTION = "retention.purged"


@dataclass(frozen=True)
class PurgeOutcome:
    """What one purge did (or, dry, would do) to one table."""

    table: str
    cutoff: datetime
    rows: int
    batches: int
    oldest_id: int | None
    newest_id: int | None
    dry_run: bool

    def describe(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        if not self.rows:
            return f"{self.table}: nothing older than {self.cutoff.isoformat()}"
        return (
            f"{self.table}: {verb} {self.rows} row(s) older than {self.cutoff.isoformat()} "
            f"(ids {self.oldest_id} to {self.newest_id})"
        )


def _label(model: type[Model]) -> str:
    return model._meta.label


def purge_in_batches(
    *, candidates: QuerySet[Any], cutoff: datetime, dry_run: bool = False, batch_size: int | None = None
) -> PurgeOutcome:
    """Delete the rows of ``candidates`` (one model's old operational rows) ``batch_size`` at a time.

    Each batch locks its rows (skipping any another worker holds), deletes them with the candidates'
    condition asked again, and writes one ``retention.purged`` entry (table, count, cutoff, oldest
    and newest id) in the same transaction. A dry run only counts.
    """
    table = _label(candidates.model)
    # Read here, not bound as a default: the module's BATCH_SIZE stays the one knob.
    size = batch_size or BATCH_SIZE
    if dry_run:
        span = candidates.aggregate(rows_count=Count("pk"), oldest=Min("pk"), newest=Max("pk"))
        return PurgeOutcome(
            table=table,
            cutoff=cutoff,
            rows=span["rows_count"],
            batches=0,
            oldest_id=span["oldest"],
            newest_id=span["newest"],
            dry_run=True,
        )
    rows = batches = 0
    oldest: int | None = None
    newest: int | None = None
    while True:
        with transaction.atomic():
            ids = list(
                candidates.order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:size]
            )
            if not ids:
                break
            _, per_model = candidates.filter(pk__in=ids).delete()
            count = per_model.get(table, 0)
            ledger.record(
                actor=None,
                action=PURGED_ACTION,
                target_type=table,
                target_repr=f"{count} {table} row(s) older than {cutoff:%Y-%m-%d}",
                data={
                    "table": table,
                    "count": count,
                    "cutoff": cutoff.isoformat(),
                    "oldest_id": ids[0],
                    "newest_id": ids[-1],
                },
            )
        rows += count
        batches += 1
        oldest = ids[0] if oldest is None else oldest
        newest = ids[-1]
    return PurgeOutcome(
        table=table,
        cutoff=cutoff,
        rows=rows,
        batches=batches,
        oldest_id=oldest,
        newest_id=newest,
        dry_run=False,
    )
