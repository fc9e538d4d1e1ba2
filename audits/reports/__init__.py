"""Reports for auditors, one module each (``sessions``, ``activity``, ``findings``, ``access``,
``reviews``, ``ledger``), exported as CSV, JSON or PDF (laid out in parts by ``pdf``) by ``export``.
Every export is itself a ledger entry (``report.exported``), written before the first row leaves the
portal; PDFs and large exports are export jobs (``audits.export_jobs``)."""

from __future__ import annotations

from audits.reports.base import ReportFilter
from audits.reports.export import REPORTS, Export, UnknownReportError, export_start
from audits.reports.findings import FINDING_COLUMNS, finding_row, finding_rows
from audits.reports.formats import FORMATS

__all__ = [
    "FINDING_COLUMNS",
    "FORMATS",
    "REPORTS",
    "Export",
    "ReportFilter",
    "UnknownReportError",
    "export_start",
    "finding_row",
    "finding_rows",
]
