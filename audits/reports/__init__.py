"""Reports for auditors, one module each (``sessions``, ``activity``, ``findings``, ``access``,
``ledger``), exported as CSV, JSON or PDF by ``export``. Every export is itself a ledger entry
(``report.exported``), written before the first row leaves the portal."""

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
