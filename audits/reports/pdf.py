"""A report's PDF laid out in parts, so memory holds one part and never the whole document.

WeasyPrint lays a document out whole before it writes a byte: the sessions PDF of 500 busy sessions
went past 300 MB (README, "Reports benchmark"). Here the rows are cut into parts of
``PDF_PART_ROWS``; each part is its own WeasyPrint document, written to a temporary file and
dropped before the next is laid out. The parts are then joined (``pdf_join``: written out part by
part, so the join too holds one part), every page numbered "Page N of M": the total M is only known
once every part is written, and one pass is enough.

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
from weasyprint import CSS, HTML

from audits.reports.formats import PRINT_STYLESHEET, font_configuration
from audits.reports.pdf_join import join_numbered

#: Rows laid out per WeasyPrint document. A busy session's row (its cells capped by ``pdf_cell``)
#: fills about a page; 25 of them keep a part's layout near 50 MB (bench/reports_benchmark.py).
PDF_PART_ROWS = 25
# The page number is written by ``pdf_join``, not by WeasyPrint's counters (which count one part only).
_NO_PAGE_NUMBER = "@page { @bottom-right { content: none; } }"


def _stylesheets() -> list[CSS]:
    return [CSS(string=PRINT_STYLESHEET.read_text(encoding="utf-8")), CSS(string=_NO_PAGE_NUMBER)]


def _write_part(path: Path, html: str, stylesheets: list[CSS]) -> int:
    """Lay out one part, write it to ``path`` and return its number of pages; the layout is then
    garbage (nothing keeps the document)."""
    # No base URL: the template links nothing, so the renderer never fetches a file or an address.
    document = HTML(string=html).render(stylesheets=stylesheets, font_config=font_configuration())
    pages = len(document.pages)
    document.write_pdf(path)
    return pages


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
        join_numbered(target, parts, producer="portal reports (WeasyPrint, pypdf)")
    return written
