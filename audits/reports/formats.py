"""Rows to CSV, JSON and PDF. CSV and JSON are produced as a stream of text pieces, so a web
response or a file receives them as they are made; the PDF is laid out whole by WeasyPrint from the
project's own template and print stylesheet."""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

FORMATS = ("csv", "json", "pdf")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "pdf": "application/pdf",
}
#: The print stylesheet of every PDF report (page size, page numbers, repeated table headers).
PRINT_STYLESHEET = Path(__file__).resolve().parents[2] / "static" / "css" / "reports-print.css"
# Spreadsheet programs run cells that start with these as formulas; event ids come from log files
# anyone could have written, so CSV cells are defused (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Lists of identifiers are joined with spaces (one token each); lists of sentences with "; ".
_SPACE_JOINED = frozenset({"event_ids", "root_event_ids", "out_of_scope_event_ids", "findings"})
# Text is handed on in pieces of about this size.
_PIECE = 1 << 16


def cell_text(key: str, value: Any) -> str:
    """A value as one line of text, for CSV cells and PDF table cells."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return (" " if key in _SPACE_JOINED else "; ").join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


#: A PDF table cell shows at most this many items of a list and this many characters of text; the
#: CSV and JSON exports carry everything. A session with a hundred root event ids in one narrow
#: column made WeasyPrint lay out for many minutes (bench/reports_benchmark.py), and a filed
#: document is read by a person, who follows the count to the full export.
PDF_LIST_ITEMS = 10
PDF_TEXT_CHARS = 600


def pdf_cell(key: str, value: Any) -> str:
    """A value as a PDF table cell: like :func:`cell_text`, long lists and texts cut with a count."""
    if isinstance(value, list) and len(value) > PDF_LIST_ITEMS:
        shown = cell_text(key, value[:PDF_LIST_ITEMS])
        return f"{shown} … (+{len(value) - PDF_LIST_ITEMS} more; all in the CSV and JSON exports)"
    text = cell_text(key, value)
    if len(text) > PDF_TEXT_CHARS:
        return f"{text[:PDF_TEXT_CHARS]} … (cut; all in the CSV and JSON exports)"
    return text


#: Label/value pairs on one line of a PDF record; a value longer than ``RECORD_WIDE_CHARS`` takes a
#: line of its own, so that it wraps over few wide lines.
RECORD_PAIRS = 3
RECORD_WIDE_CHARS = 60


@dataclass(frozen=True)
class RecordField:
    label: str
    text: str
    # Table columns the value spans: 1, or more to fill its line (a line holds RECORD_PAIRS pairs).
    span: int


@dataclass(frozen=True)
class PdfRecord:
    """One row of a wide report as the PDF lays it out: a heading line, then its other columns as
    label/value pairs, ``RECORD_PAIRS`` a line, every column shown even when empty."""

    heading: str
    lines: list[list[RecordField]]


def _spanned(line: list[tuple[str, str]]) -> list[RecordField]:
    # The last value of a short line spans the pairs left, so every line fills the record's width.
    spare = (RECORD_PAIRS - len(line)) * 2
    return [
        RecordField(label, text, 1 + (spare if index == len(line) - 1 else 0))
        for index, (label, text) in enumerate(line)
    ]


def pdf_record(columns: tuple[str, ...], heading: tuple[str, ...], row: dict[str, Any]) -> PdfRecord:
    """A row as a :class:`PdfRecord`: the ``heading`` columns' texts joined, then every other
    column's :func:`pdf_cell` with its name as label."""
    title = " · ".join(text for column in heading if (text := pdf_cell(column, row.get(column))))
    lines: list[list[RecordField]] = []
    line: list[tuple[str, str]] = []
    for column in columns:
        if column in heading:
            continue
        text = pdf_cell(column, row.get(column))
        label = column.replace("_", " ")
        if len(text) > RECORD_WIDE_CHARS:
            if line:
                lines.append(_spanned(line))
                line = []
            lines.append([RecordField(label, text, RECORD_PAIRS * 2 - 1)])
            continue
        line.append((label, text))
        if len(line) == RECORD_PAIRS:
            lines.append(_spanned(line))
            line = []
    if line:
        lines.append(_spanned(line))
    return PdfRecord(heading=title, lines=lines)


def csv_cell(key: str, value: Any) -> str:
    text = cell_text(key, value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_pieces(columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A header line, then the rows, in pieces of about 64 KiB."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_cell(key, value) for key, value in row.items()})
        if buffer.tell() > _PIECE:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_pieces(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array of row objects, one object a line, streamed."""
    yield "["
    separator = "\n"
    for row in rows:
        yield separator + json.dumps(row, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"


@functools.cache
def font_configuration() -> FontConfiguration:
    """The process's one WeasyPrint font configuration, for every PDF it lays out. WeasyPrint makes a
    new one for each document not given one, and each kept about 0.25 MB that was never given back
    (a Pango font map): the 400 parts of a 10,000-session PDF took the process from 240 to 267 MB
    and rising (bench/reports_benchmark.py); shared, memory stays flat."""
    return FontConfiguration()


def pdf_document(*, template: str, context: dict[str, Any]) -> bytes:
    """A short PDF (the evidence bundle's cover) rendered whole from ``template`` with the print
    stylesheet; reports, whose rows have no bound, are laid out in parts by ``reports.pdf``."""
    html = render_to_string(template, context)
    stylesheet = CSS(string=PRINT_STYLESHEET.read_text(encoding="utf-8"))
    # No base URL: the template links nothing, so the renderer never fetches a file or an address.
    document: bytes = HTML(string=html).write_pdf(stylesheets=[stylesheet], font_config=font_configuration())
    return document
