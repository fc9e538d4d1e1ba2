"""Exporting a report: which reports there are, the ledger entry every export is, and the pieces of
text or bytes a response or a file receives. Views and ``manage.py export_report`` share it."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audits.reports.access import REPORT as ACCESS
from audits.reports.activity import REPORT as ACTIVITY
from audits.reports.base import Report, ReportFilter
from audits.reports.findings import REPORT as FINDINGS
from audits.reports.formats import FORMATS, RECORD_PAIRS, csv_pieces, json_pieces, pdf_cell, pdf_record
from audits.reports.ledger import REPORT as LEDGER
from audits.reports.pdf import write_report_pdf
from audits.reports.posture import REPORT as POSTURE
from audits.reports.reviews import REPORT as REVIEWS
from audits.reports.sessions import REPORT as SESSIONS
from ledger import services as ledger_services
from ledger.services import SYSTEM_ACTOR_NAME
from portal.errors import DomainError
from portal.people import person_label

if TYPE_CHECKING:
    from audits.reports.base import AnyUser

REPORTS: dict[str, Report] = {
    report.name: report for report in (SESSIONS, ACTIVITY, FINDINGS, ACCESS, REVIEWS, LEDGER, POSTURE)
}
PDF_TEMPLATE = "audits/reports/document.html"
#: The PDF of a report with ``record_heading``: one block of label/value pairs a row.
RECORDS_TEMPLATE = "audits/reports/records.html"


class UnknownReportError(ValueError):
    """A report or format name that does not exist."""


def report_named(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise UnknownReportError(f"unknown report {name!r}; choose one of {', '.join(REPORTS)}") from None


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UnknownReportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def check_filters(report: Report, filters: ReportFilter) -> None:
    """Refuse an account named in a way the report cannot narrow by, rather than export every
    account's rows as if no account had been asked for (evidence must be what was asked)."""
    if filters.account and not report.searches_account_names:
        raise DomainError(
            {
                "account": f"“{filters.account}” does not name exactly one account: type the account's "
                "full name or its 12-digit id."
            }
        )


def report_exported(
    *,
    user: AnyUser | None,
    report: Report,
    fmt: str,
    filters: ReportFilter,
    count: int | None,
    job: str | None = None,
) -> None:
    """The ledger entry of an export, written (and committed) before any row leaves the portal: an
    export whose entry cannot be written does not happen (fail closed). ``job``: the uuid of the
    export job that will make the file (``audits.export_jobs``)."""
    data: dict[str, Any] = {"report": report.name, "format": fmt, "filters": filters.as_dict()}
    if count is not None:
        data["count"] = count
    if job is not None:
        data["job"] = job
    with transaction.atomic():
        ledger_services.record(
            actor=user,
            action="report.exported",
            target_type="report",
            target_id=report.name,
            target_repr=f"{report.name} report ({fmt})",
            data=data,
        )


def period_text(filters: ReportFilter) -> str:
    since = filters.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if filters.since else "the beginning"
    until = filters.until.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if filters.until else "now"
    return f"{since} to {until}"


def write_pdf(
    target: IO[bytes],
    *,
    user: AnyUser | None,
    report: Report,
    filters: ReportFilter,
    count: int | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """The report as a PDF an auditor files (title, organization, period, filters, who made it and
    when, its table, "Page N of M"), written into ``target`` part by part; returns the rows."""
    shown = {key: value for key, value in filters.as_dict().items() if key not in ("since", "until")}
    context: dict[str, Any] = {
        "title": report.title,
        "organization": settings.PORTAL_ORGANIZATION_NAME,
        "period": period_text(filters),
        "filters": sorted(shown.items()),
        "generated_at": timezone.now().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "generated_by": person_label(user) if user is not None else SYSTEM_ACTOR_NAME,
        "columns": [column.replace("_", " ") for column in report.columns],
        "row_count": count,
    }
    found = report.rows(user=user, filters=filters)
    if report.record_heading:
        context["pairs"] = range(RECORD_PAIRS)
        context["record_columns"] = RECORD_PAIRS * 2
        records = (pdf_record(report.columns, report.record_heading, row) for row in found)
        return write_report_pdf(
            target, template=RECORDS_TEMPLATE, context=context, rows=records, on_rows=on_rows
        )
    cells = ([pdf_cell(column, row.get(column)) for column in report.columns] for row in found)
    return write_report_pdf(target, template=PDF_TEMPLATE, context=context, rows=cells, on_rows=on_rows)


def pdf_bytes(*, user: AnyUser | None, report: Report, filters: ReportFilter) -> bytes:
    """The PDF in memory, for small reports and tests; files and jobs use :func:`write_pdf`."""
    buffer = io.BytesIO()
    write_pdf(
        buffer, user=user, report=report, filters=filters, count=report.count(user=user, filters=filters)
    )
    return buffer.getvalue()


def text_pieces(*, user: AnyUser | None, report: Report, fmt: str, filters: ReportFilter) -> Iterator[str]:
    """The CSV or JSON text of a report, piece by piece (nothing is read before the first is asked)."""
    rows = report.rows(user=user, filters=filters)
    if fmt == "csv":
        return csv_pieces(report.columns, rows)
    return json_pieces(rows)


@dataclass(frozen=True)
class Export:
    """An export already recorded in the ledger, ready to be produced."""

    user: AnyUser | None
    report: Report
    fmt: str
    filters: ReportFilter
    # How many rows the ledger entry counted (None when not known beforehand).
    count: int | None

    @property
    def filename(self) -> str:
        return f"{self.report.name}-{timezone.now():%Y%m%dT%H%M%SZ}.{self.fmt}"

    def text(self) -> Iterator[str]:
        """CSV or JSON, piece by piece."""
        return text_pieces(user=self.user, report=self.report, fmt=self.fmt, filters=self.filters)

    def pdf(self) -> bytes:
        return pdf_bytes(user=self.user, report=self.report, filters=self.filters)

    def write_pdf(self, target: IO[bytes], on_rows: Callable[[int], None] | None = None) -> int:
        """The PDF into a file, part by part (memory holds one part); returns the rows."""
        return write_pdf(
            target,
            user=self.user,
            report=self.report,
            filters=self.filters,
            count=self.count,
            on_rows=on_rows,
        )


def export_start(*, user: AnyUser | None, name: str, fmt: str, filters: ReportFilter | None = None) -> Export:
    """Check the report and format, count the rows when one query can, and write the ledger entry;
    the caller then produces the export (``Export.text()`` or ``Export.pdf()``)."""
    report = report_named(name)
    check_format(fmt)
    filters = filters or ReportFilter()
    check_filters(report, filters)
    count = report.count(user=user, filters=filters)
    report_exported(user=user, report=report, fmt=fmt, filters=filters, count=count)
    return Export(user=user, report=report, fmt=fmt, filters=filters, count=count)
