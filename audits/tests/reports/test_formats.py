"""How a value becomes a cell: CSV keeps everything (defused), a PDF cell is cut with a count."""

from __future__ import annotations

from audits.reports.formats import PDF_LIST_ITEMS, PDF_TEXT_CHARS, cell_text, csv_cell, pdf_cell


def test_a_long_list_of_event_ids_is_cut_in_the_pdf_with_how_many_more() -> None:
    ids = [f"event-{number:03d}" for number in range(106)]

    cell = pdf_cell("root_event_ids", ids)

    assert cell.startswith("event-000 event-001")
    assert f"event-{PDF_LIST_ITEMS - 1:03d}" in cell
    assert f"event-{PDF_LIST_ITEMS:03d}" not in cell
    assert f"(+{106 - PDF_LIST_ITEMS} more; all in the CSV and JSON exports)" in cell


def test_the_csv_cell_keeps_the_whole_list() -> None:
    ids = [f"event-{number:03d}" for number in range(106)]

    assert cell_text("root_event_ids", ids).split() == ids


def test_a_short_list_and_a_short_text_are_shown_whole_in_the_pdf() -> None:
    assert pdf_cell("findings", ["F-1", "F-2"]) == "F-1 F-2"
    assert pdf_cell("justification", "Close the account.") == "Close the account."


def test_a_long_text_is_cut_in_the_pdf_and_says_so() -> None:
    text = "x" * (PDF_TEXT_CHARS + 50)

    cell = pdf_cell("justification", text)

    assert cell.startswith("x" * PDF_TEXT_CHARS + " …")
    assert "cut; all in the CSV and JSON exports" in cell


def test_a_csv_cell_that_a_spreadsheet_would_run_is_defused() -> None:
    assert csv_cell("event_name", "=HYPERLINK(1)") == "'=HYPERLINK(1)"
