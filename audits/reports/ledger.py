"""The audit ledger report: its entries in order, filtered by actor, action, account, period and
request id, with notification deliveries kept apart from decisions (``category``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from audits.reports.base import Report, ReportFilter, Row, in_chunks, iso, may_read
from ledger.models import LedgerEntry

if TYPE_CHECKING:
    from audits.reports.base import AnyUser

LEDGER_COLUMNS = (
    "sequence",
    "created_at",
    "category",
    "actor",
    "request_id",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "data",
    "hash",
)
#: Notification deliveries (sent, failed) outnumber decisions; the report shows them apart.
DELIVERY_ACTIONS = Q(action__startswith="notification.")


def entries_for_report(*, user: AnyUser | None, filters: ReportFilter | None = None) -> QuerySet[LedgerEntry]:
    """Ledger entries in chain order, for those who may export (the ledger page's readers)."""
    if not may_read(user):
        return LedgerEntry.objects.none()
    q = Q()
    if filters is not None:
        if filters.since is not None:
            q &= Q(created_at__gte=filters.since)
        if filters.until is not None:
            q &= Q(created_at__lte=filters.until)
        if filters.person:
            q &= Q(actor_name=filters.person) | Q(actor__username=filters.person)
        if filters.action:
            q &= Q(action=filters.action)
        if filters.account_id:
            q &= Q(data__account_id=filters.account_id) | Q(data__aws_account_id=filters.account_id)
        if filters.request_id:
            q &= Q(request_id=filters.request_id)
        if filters.category == "deliveries":
            q &= DELIVERY_ACTIONS
        elif filters.category == "decisions":
            q &= ~DELIVERY_ACTIONS
    return LedgerEntry.objects.filter(q).order_by("sequence")


def ledger_row(entry: LedgerEntry) -> Row:
    return {
        "sequence": entry.sequence,
        "created_at": iso(entry.created_at),
        "category": "delivery" if entry.action.startswith("notification.") else "decision",
        "actor": entry.actor_name,
        "request_id": entry.request_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_repr": entry.target_repr,
        "data": entry.data,
        "hash": entry.hash,
    }


def ledger_rows(*, user: AnyUser | None, filters: ReportFilter | None = None) -> Iterator[Row]:
    for chunk in in_chunks(entries_for_report(user=user, filters=filters)):
        for entry in chunk:
            yield ledger_row(entry)


def ledger_count(*, user: AnyUser | None, filters: ReportFilter | None = None) -> int:
    return entries_for_report(user=user, filters=filters).count()


REPORT = Report(
    name="ledger",
    title="Audit ledger",
    columns=LEDGER_COLUMNS,
    rows=ledger_rows,
    count=ledger_count,
    filter_fields=("since", "until", "account", "person", "action", "request_id", "category"),
)
