"""The audit ledger report: its entries in order, filtered like the ledger page (``ledger.selectors``:
actor, action, account, period, request id, free text, notification deliveries apart from decisions),
each with a link to the page of what it names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from audits.reports.base import Report, ReportFilter, Row, in_chunks, iso, may_read
from ledger.links import target_url
from ledger.models import LedgerEntry
from ledger.selectors import LedgerFilter, ledger_entries

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
    # The full address of the page of what the entry names (a request, account, finding...), if any.
    "link",
)


def as_ledger_filter(filters: ReportFilter | None) -> LedgerFilter:
    """The ledger page's own filter from a report filter: the page and the export share it."""
    if filters is None:
        return LedgerFilter()
    return LedgerFilter(
        since=filters.since,
        until=filters.until,
        person=filters.person,
        action=filters.action,
        account_id=filters.account_id,
        request_id=filters.request_id,
        category=filters.category,
        search=filters.search,
    )


def entries_for_report(*, user: AnyUser | None, filters: ReportFilter | None = None) -> QuerySet[LedgerEntry]:
    """The ledger page's selector in chain order, for those who may export."""
    if not may_read(user):
        return LedgerEntry.objects.none()
    return ledger_entries(user=user, filters=as_ledger_filter(filters)).order_by("sequence")


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
        "link": target_url(entry),
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
    filter_fields=("since", "until", "account", "person", "action", "request_id", "category", "search"),
)
