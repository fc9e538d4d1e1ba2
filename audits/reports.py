"""Reports for auditors. Every export is itself a ledger entry (``report.exported``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.db import transaction

from audits.models import Finding
from audits.selectors import FindingFilter, findings_visible_to
from ledger import services as ledger

if TYPE_CHECKING:
    from audits.selectors import AnyUser

FORMATS = ("json", "csv")
FINDING_COLUMNS = (
    "code",
    "kind",
    "severity",
    "status",
    "account_id",
    "account_name",
    "event_ids",
    "session",
    "first_seen",
    "last_seen",
    "summary",
    "alerted_at",
    "triaged_by",
    "triaged_at",
    "triage_note",
)
# Spreadsheet programs run cells that start with these as formulas; event ids come from log files
# anyone could have written, so CSV cells are defused (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def finding_row(finding: Finding) -> dict[str, Any]:
    """One finding as the export shows it (event ids are the CloudTrail eventIDs, sorted)."""
    triaged_by = finding.triaged_by
    return {
        "code": finding.code,
        "kind": finding.kind,
        "severity": finding.severity,
        "status": finding.status,
        "account_id": finding.aws_account_id,
        "account_name": finding.account.name if finding.account is not None else None,
        "event_ids": sorted(event.event_id for event in finding.events.all()),
        "session": finding.session.code if finding.session is not None else None,
        "first_seen": _iso(finding.first_seen),
        "last_seen": _iso(finding.last_seen),
        "summary": finding.summary,
        "alerted_at": _iso(finding.alerted_at),
        "triaged_by": triaged_by.get_username() if triaged_by is not None else None,
        "triaged_at": _iso(finding.triaged_at),
        "triage_note": finding.triage_note,
    }


def finding_rows(*, user: AnyUser | None, filters: FindingFilter | None = None) -> Iterator[dict[str, Any]]:
    """The findings a person may see, oldest first (by first seen), as export rows."""
    findings = findings_visible_to(user=user, filters=filters).order_by("first_seen", "pk")
    for finding in findings:
        yield finding_row(finding)


def write_findings(rows: Iterable[dict[str, Any]], *, fmt: str, out: Writable) -> int:
    """Write rows as JSON (a list of objects) or CSV (the same columns); returns how many."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    count = 0
    if fmt == "json":
        found = list(rows)
        out.write(json.dumps(found, indent=2, ensure_ascii=False) + "\n")
        return len(found)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FINDING_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _csv_cell(key, value) for key, value in row.items()})
        count += 1
        if buffer.tell() > 1 << 16:
            out.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    out.write(buffer.getvalue())
    return count


def _csv_cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    text = " ".join(value) if key == "event_ids" else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_findings(
    *, user: AnyUser | None, fmt: str, out: Writable, filters: FindingFilter | None = None
) -> int:
    """Write the findings ``user`` may see (None: the system, all of them) and record the export.

    The ledger entry is written once the data has been produced, in its own transaction: an export
    that failed half-way leaves no claim that it happened. Returns how many findings were written.
    """
    count = write_findings(finding_rows(user=user, filters=filters), fmt=fmt, out=out)
    with transaction.atomic():
        ledger.record(
            actor=user,
            action="report.exported",
            target_type="report",
            target_id="findings",
            target_repr=f"findings report ({fmt})",
            data={
                "report": "findings",
                "format": fmt,
                "count": count,
                "filters": (filters or FindingFilter()).as_dict(),
            },
        )
    return count
