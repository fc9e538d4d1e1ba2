"""A report PDF laid out in parts (audits/reports/pdf.py) reads as one document: every page
numbered "Page N of M" with the right M, every row once, the header once, the end line last."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from audits.reports import pdf as report_pdf
from audits.reports.base import ReportFilter
from audits.reports.export import REPORTS, write_pdf
from ledger import services as ledger

pytestmark = pytest.mark.django_db


def test_parts_join_into_one_numbered_document(monkeypatch: pytest.MonkeyPatch, auditor: Any) -> None:
    monkeypatch.setattr(report_pdf, "PDF_PART_ROWS", 7)
    for number in range(30):
        ledger.record(actor=None, action="test.row", target_type="t", target_id=f"row-{number:03d}", data={})
    seen: list[int] = []
    buffer = io.BytesIO()

    rows = write_pdf(
        buffer,
        user=auditor,
        report=REPORTS["ledger"],
        filters=ReportFilter(action="test.row"),
        count=30,
        on_rows=seen.append,
    )

    pages = PdfReader(io.BytesIO(buffer.getvalue())).pages
    texts = [page.extract_text() for page in pages]
    total = len(pages)
    assert rows == 30
    assert seen == [7, 14, 21, 28, 30]
    assert total >= 5  # each part starts a page
    for number, text in enumerate(texts, start=1):
        assert re.findall(r"Page \d+ of \d+", text) == [f"Page {number} of {total}"], number
    whole = "\n".join(texts)
    for number in range(30):
        assert whole.count(f"row-{number:03d}") == 1, number
    assert whole.count("Filters") == 1  # the header, on the first part only
    assert texts[1].count("Audit ledger (continued)") == 1
    assert "End of report: 30 rows." in texts[-1]


def test_a_report_of_exactly_whole_parts_has_no_empty_last_part(
    monkeypatch: pytest.MonkeyPatch, auditor: Any
) -> None:
    monkeypatch.setattr(report_pdf, "PDF_PART_ROWS", 5)
    for number in range(10):
        ledger.record(actor=None, action="test.row", target_type="t", target_id=f"row-{number:03d}", data={})
    buffer = io.BytesIO()

    write_pdf(buffer, user=auditor, report=REPORTS["ledger"], filters=ReportFilter(action="test.row"))

    texts = [page.extract_text() for page in PdfReader(io.BytesIO(buffer.getvalue())).pages]
    assert "row-009" in texts[-1]
    assert "End of report: 10 rows." in texts[-1]
    assert "Rows counted at the end" in texts[0].replace("\n", " ")


def test_the_joined_file_is_a_well_formed_pdf_whose_cross_references_point_at_their_objects(
    monkeypatch: pytest.MonkeyPatch, auditor: Any
) -> None:
    """The parts are joined by writing their objects out with shifted numbers (``pdf_join``): a
    strict reader takes the file, every offset of its table names its own object, and the fonts
    of every part still give the text back."""
    monkeypatch.setattr(report_pdf, "PDF_PART_ROWS", 4)
    for number in range(9):
        ledger.record(actor=None, action="test.row", target_type="t", target_id=f"row-{number:03d}", data={})
    buffer = io.BytesIO()
    write_pdf(buffer, user=auditor, report=REPORTS["ledger"], filters=ReportFilter(action="test.row"))
    data = buffer.getvalue()

    reader = PdfReader(io.BytesIO(data), strict=True)
    start = int(data.rsplit(b"startxref", 1)[1].split()[0])
    table = data[start:].split(b"\n")
    size = int(table[1].split()[1])
    for number in range(1, size):
        entry = table[2 + number]
        if entry.endswith(b"n "):
            offset = int(entry[:10])
            assert data[offset:].startswith(b"%d 0 obj" % number), number
    assert reader.metadata is not None
    assert reader.metadata["/Producer"].startswith("portal reports")
    texts = [page.extract_text() for page in reader.pages]
    assert all("Audit ledger" in text for text in texts)
    assert [re.findall(r"Page \d+ of \d+", text) for text in texts] == [
        [f"Page {number} of {len(texts)}"] for number in range(1, len(texts) + 1)
    ]


def test_every_part_is_laid_out_with_the_one_font_configuration(
    monkeypatch: pytest.MonkeyPatch, auditor: Any
) -> None:
    """WeasyPrint keeps about 0.25 MB of each font configuration it makes itself (one a document
    not given one): 400 parts grew the process by 27 MB. Every part gets the process's one."""
    monkeypatch.setattr(report_pdf, "PDF_PART_ROWS", 3)
    for number in range(7):
        ledger.record(actor=None, action="test.row", target_type="t", target_id=f"row-{number:03d}", data={})
    given: list[Any] = []
    render = report_pdf.HTML.render

    def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
        given.append(kwargs.get("font_config"))
        return render(self, *args, **kwargs)

    monkeypatch.setattr(report_pdf.HTML, "render", recording)
    filters = ReportFilter(action="test.row")
    for _ in range(2):
        write_pdf(io.BytesIO(), user=auditor, report=REPORTS["ledger"], filters=filters)

    assert len(given) == 6  # three parts, twice
    assert given[0] is not None
    assert all(config is given[0] for config in given)
