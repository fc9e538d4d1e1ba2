"""What every report shares: its filter, its shape, and reading a queryset in bounded chunks.

A report is a permission-aware selector (who asks + a :class:`ReportFilter` -> a queryset) and a row
builder. Rows are plain dicts of JSON values (strings, numbers, booleans, None, lists of strings), so
the same rows feed CSV, JSON and the PDF. Querysets are read with ``.iterator(chunk_size=...)``:
Django then runs the prefetches once per chunk, so the number of queries grows with chunks, never
with rows, and no table is ever held in memory whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, QuerySet

from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

#: Rows fetched (and prefetched for) per database round trip.
CHUNK_SIZE = 500

Row = dict[str, Any]
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class ReportFilter:
    """What a report narrows its rows to; empty fields do not filter. Each report reads the fields
    that apply to it (a period and an account apply to all)."""

    since: datetime | None = None
    until: datetime | None = None
    # The 12-digit AWS account id.
    account_id: str = ""
    # Findings only: an account's name or the start of its id, as the findings page takes it.
    account: str = ""
    environment: str = ""
    # A username: the requester (sessions), the person granted or assigned (access), the actor (ledger).
    person: str = ""
    status: str = ""
    severity: str = ""
    kind: str = ""
    # Ledger only.
    action: str = ""
    request_id: str = ""
    # Ledger only: "decisions" (everything but notification deliveries) or "deliveries".
    category: str = ""
    # Ledger only: free text (``ledger.selectors.LedgerFilter.search``).
    search: str = ""
    # Access reviews only: one campaign's uuid.
    campaign: str = ""

    def as_dict(self) -> dict[str, str]:
        """The filters in force, for the ledger entry of an export and the PDF's header."""
        found: dict[str, str] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, datetime):
                found[field.name] = value.isoformat()
            elif value:
                found[field.name] = str(value)
        return found


@dataclass(frozen=True)
class Report:
    """One report: its name in URLs and the command, its title, its columns and how to read it."""

    name: str
    title: str
    columns: tuple[str, ...]
    # Every row the person may see, oldest first.
    rows: Callable[..., Iterator[Row]]
    # How many rows, when one cheap query can say (None: not known before streaming).
    count: Callable[..., int | None]
    # The filters a page offers for this report.
    filter_fields: tuple[str, ...]
    # Whether ``ReportFilter.account`` (part of a name, the start of an id) narrows it; the others
    # take one account by id, and ``export.check_filters`` refuses a name they would ignore.
    searches_account_names: bool = False
    # The PDF's columns that head each row laid out as a record (``reports.formats.pdf_record``),
    # one block of label/value pairs per row, for reports too wide for one table line a row; empty:
    # one table line a row, the column headers repeated on every page.
    record_heading: tuple[str, ...] = ()


def may_read(user: AnyUser | None) -> bool:
    """None is the system (a management command on the server); people need the export right."""
    return user is None or policy.may_export_reports(user)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def in_chunks(queryset: QuerySet[M], size: int = CHUNK_SIZE) -> Iterator[list[M]]:
    """The queryset's rows in lists of at most ``size``, prefetches run once per list."""
    batch: list[M] = []
    for item in queryset.iterator(chunk_size=size):
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
