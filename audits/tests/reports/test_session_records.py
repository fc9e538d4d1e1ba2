"""The sessions PDF lays each session out as a record (a heading, then label/value pairs) instead of
one 34-column table line: every session once, every column named, long lists cut with their count,
the parts joined and numbered as one document."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from audits.models import RootEvent
from audits.reports import pdf as report_pdf
from audits.reports.base import ReportFilter
from audits.reports.export import REPORTS, write_pdf
from audits.reports.formats import RECORD_PAIRS, RECORD_WIDE_CHARS, pdf_record
from audits.reports.sessions import SESSION_COLUMNS
from audits.tests.reports.conftest import World
from breakglass.models import AccessRequest

HEADING = REPORTS["sessions"].record_heading


def test_a_record_names_every_column_once_and_fills_each_line() -> None:
    row: dict[str, Any] = {column: f"value of {column}" for column in SESSION_COLUMNS}
    row["justification"] = "j" * (RECORD_WIDE_CHARS + 1)
    row["root_event_ids"] = [f"event-{number:03d}" for number in range(40)]

    record = pdf_record(SESSION_COLUMNS, HEADING, row)

    assert record.heading == " · ".join(f"value of {column}" for column in HEADING)
    labels = [field.label for line in record.lines for field in line]
    assert labels == [column.replace("_", " ") for column in SESSION_COLUMNS if column not in HEADING]
    for line in record.lines:
        # Each field is a label cell and a value cell spanning ``span`` columns.
        assert sum(1 + field.span for field in line) == RECORD_PAIRS * 2, line
    (wide,) = [line for line in record.lines if line[0].label == "justification"]
    assert len(wide) == 1
    (events,) = [field for line in record.lines for field in line if field.label == "root event ids"]
    assert events.text.endswith("(+30 more; all in the CSV and JSON exports)")


def _sessions_like(session: AccessRequest, count: int) -> list[AccessRequest]:
    return [
        AccessRequest.objects.create(
            code=f"BG-REC-{number:03d}", requester=session.requester, account=session.account,
            root_task="other", other_task="Unlock a bucket", justification=f"INC-{number} bucket policy",
            ticket_reference=f"INC-{number}", starts_at=session.starts_at + timedelta(minutes=number + 1),
            duration_minutes=30, status="cancelled",
        )
        for number in range(count)
    ]  # fmt: skip


def test_the_sessions_pdf_reads_back_one_record_per_session_numbered_as_one_document(
    monkeypatch: pytest.MonkeyPatch, auditor: Any, world: World
) -> None:
    monkeypatch.setattr(report_pdf, "PDF_PART_ROWS", 5)
    more = _sessions_like(world.session, 11)
    inside = RootEvent.objects.get(event_id="inside-window")
    RootEvent.objects.bulk_create(
        RootEvent(
            event_id=f"busy-{number:03d}", aws_account_id=inside.aws_account_id,
            event_time=inside.event_time + timedelta(seconds=number + 1), event_name=inside.event_name,
            event_source=inside.event_source, session=world.session, in_scope=True, raw={},
        )
        for number in range(30)
    )  # fmt: skip
    buffer = io.BytesIO()

    rows = write_pdf(buffer, user=auditor, report=REPORTS["sessions"], filters=ReportFilter(), count=12)

    pages = PdfReader(io.BytesIO(buffer.getvalue())).pages
    texts = [page.extract_text() for page in pages]
    whole = " ".join(" ".join(texts).split())
    assert rows == 12
    for number, text in enumerate(texts, start=1):
        assert re.findall(r"Page \d+ of \d+", text) == [f"Page {number} of {len(texts)}"], number
    for code in [world.session.code, *(session.code for session in more)]:
        assert whole.count(f"{code} · {world.account.account_id}") == 1, code
    # Every record names its columns, the long ones included.
    assert whole.count("rotation confirmed by") == 12
    assert whole.count("root event ids") == 12
    # The busy session: its first ten events shown, the rest counted and pointed to the full exports.
    assert "inside-window busy-000" in whole
    assert "busy-009" not in whole
    assert "(+21 more; all in the CSV and JSON exports)" in whole
    assert whole.count("Break-glass sessions (continued)") >= 2
    assert "End of report: 12 rows." in " ".join(texts[-1].split())
