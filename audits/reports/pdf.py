"""A report's PDF laid out in parts, so memory holds one part and never the whole document.

WeasyPrint lays a document out whole before it writes a byte: the sessions PDF of 500 busy sessions
went past 300 MB (README, "Reports benchmark"). Here the rows are cut into parts of
``PDF_PART_ROWS``; each part is its own WeasyPrint document, written to a temporary file and
dropped before the next is laid out. The parts are then joined with pypdf, and every page is
stamped "Page N of M" from a small stamp document (explicit text, also laid out in parts): the
total M is only known once every part is written, and one pass is enough.

The first part carries the report's header (title, organization, period, filters, who and when);
every later part starts on a new page with a "(continued)" line that keeps the running page header
right; the last ends with the number of rows.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter
from weasyprint import CSS, HTML

from audits.reports.formats import PRINT_STYLESHEET

#: Rows laid out per WeasyPrint document. A busy session's row (its cells capped by ``pdf_cell``)
#: fills about a page; 25 of them keep a part's layout near 50 MB (bench/reports_benchmark.py).
PDF_PART_ROWS = 25
#: Stamp pages laid out per stamp document.
STAMP_PART_PAGES = 400
# The page number comes from the stamp, not from WeasyPrint's counters (which count one part only).
_NO_PAGE_NUMBER = "@page { @bottom-right { content: none; } }"
_STAMP_CSS = """
@page {
    size: A4 landscape;
    margin: 18mm 12mm 16mm 12mm;
    @bottom-right { content: string(page-number); font-size: 8pt; font-family: "DejaVu Sans", sans-serif; }
}
div { break-after: page; }
span { string-set: page-number content(); visibility: hidden; font-size: 1pt; }
"""


def _stylesheets() -> list[CSS]:
    return [CSS(string=PRINT_STYLESHEET.read_text(encoding="utf-8")), CSS(string=_NO_PAGE_NUMBER)]


def _write_part(path: Path, html: str, stylesheets: list[CSS]) -> int:
    """Lay out one part, write it to ``path`` and return its number of pages; the layout is then
    garbage (nothing keeps the document)."""
    # No base URL: the template links nothing, so the renderer never fetches a file or an address.
    document = HTML(string=html).render(stylesheets=stylesheets)
    pages = len(document.pages)
    document.write_pdf(path)
    return pages


def _write_stamps(path: Path, first: int, last: int, total: int) -> None:
    body = "".join(f"<div><span>Page {number} of {total}</span></div>" for number in range(first, last + 1))
    html = f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'></head><body>{body}</body></html>"
    HTML(string=html).write_pdf(path, stylesheets=[CSS(string=_STAMP_CSS)])


def write_report_pdf(
    target: IO[bytes],
    *,
    template: str,
    context: dict[str, Any],
    rows: Iterable[Any],
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Write the PDF of ``rows`` (what ``template`` lays out: lists of cell texts, or
    ``formats.PdfRecord``) into ``target``; returns the number of rows.

    ``context`` is the template's header (title, organization, period, filters, generated at/by,
    columns, row_count or None); ``on_rows`` hears how many rows are laid out so far, after each part.
    """
    stylesheets = _stylesheets()
    with tempfile.TemporaryDirectory(prefix="report-pdf-") as folder:
        parts: list[tuple[Path, int]] = []
        written = 0

        def flush(batch: list[Any], *, last: bool) -> None:
            part_context = {
                **context,
                "rows": batch,
                "first": not parts,
                "last": last,
                "rows_written": written,
            }
            path = Path(folder) / f"part-{len(parts):05d}.pdf"
            pages = _write_part(path, render_to_string(template, part_context), stylesheets)
            parts.append((path, pages))

        batch: list[Any] = []
        for cells in rows:
            # A full part is laid out once a row follows it, so the last part is never empty.
            if len(batch) >= PDF_PART_ROWS:
                written += len(batch)
                flush(batch, last=False)
                batch = []
                if on_rows is not None:
                    on_rows(written)
            batch.append(cells)
        written += len(batch)
        flush(batch, last=True)
        if on_rows is not None:
            on_rows(written)
        _join_and_number(target, parts, Path(folder))
    return written


def _join_and_number(target: IO[bytes], parts: list[tuple[Path, int]], folder: Path) -> None:
    total = sum(pages for _, pages in parts)
    writer = PdfWriter()
    number = 0
    stamps: PdfReader | None = None
    stamps_first = 0
    for path, _ in parts:
        for page in PdfReader(path).pages:
            number += 1
            if stamps is None or number - stamps_first >= len(stamps.pages):
                stamps_first = number
                stamp_path = folder / f"stamps-{number:06d}.pdf"
                _write_stamps(stamp_path, number, min(number + STAMP_PART_PAGES - 1, total), total)
                stamps = PdfReader(stamp_path)
            added = writer.add_page(page)
            added.merge_page(stamps.pages[number - stamps_first])
            added.compress_content_streams()
    writer.add_metadata({"/Producer": "portal reports (WeasyPrint, pypdf)"})
    writer.write(target)
