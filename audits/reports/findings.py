"""The findings report: every finding a person may see, with its events and its triage history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from audits.models import Finding
from audits.reports.base import Report, ReportFilter, Row, in_chunks, iso, may_read, username
from audits.selectors import FindingFilter, findings_visible_to
from ledger.models import LedgerEntry

if TYPE_CHECKING:
    from audits.reports.base import AnyUser

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
    "triage_history",
)
_FINDING_TARGET = Finding._meta.label


def finding_row(finding: Finding, history: list[str] | None = None) -> Row:
    """One finding as the export shows it (event ids are the CloudTrail eventIDs, sorted).

    ``history`` is every triage decision, oldest first, as "when who: from -> to: note".
    """
    return {
        "code": finding.code,
        "kind": finding.kind,
        "severity": finding.severity,
        "status": finding.status,
        "account_id": finding.aws_account_id,
        "account_name": finding.account.name if finding.account is not None else None,
        "event_ids": sorted(event.event_id for event in finding.events.all()),
        "session": finding.session.code if finding.session is not None else None,
        "first_seen": iso(finding.first_seen),
        "last_seen": iso(finding.last_seen),
        "summary": finding.summary,
        "alerted_at": iso(finding.alerted_at),
        "triaged_by": username(finding.triaged_by),
        "triaged_at": iso(finding.triaged_at),
        "triage_note": finding.triage_note,
        "triage_history": history or [],
    }


def as_finding_filter(filters: ReportFilter | None) -> FindingFilter:
    """The findings page's own filter from a report filter: the page and the export share it."""
    if filters is None:
        return FindingFilter()
    return FindingFilter(
        kind=filters.kind,
        severity=filters.severity,
        status=filters.status,
        account_id=filters.account_id,
        account=filters.account,
        environment=filters.environment,
        since=filters.since,
        until=filters.until,
    )


def findings_for_report(*, user: AnyUser | None, filters: ReportFilter | None = None) -> QuerySet[Finding]:
    """The findings selector of the pages, oldest first (by first seen), for people who may export."""
    if not may_read(user):
        return Finding.objects.none()
    return findings_visible_to(user=user, filters=as_finding_filter(filters)).order_by("first_seen", "pk")


def _triage_history(findings: list[Finding]) -> dict[str, list[str]]:
    """The triage decisions of a chunk of findings, read in one query from the ledger."""
    history: dict[str, list[str]] = defaultdict(list)
    entries = LedgerEntry.objects.filter(
        action="finding.triaged",
        target_type=_FINDING_TARGET,
        target_id__in=[str(finding.uuid) for finding in findings],
    ).order_by("sequence")
    for entry in entries.only("created_at", "actor_name", "target_id", "data"):
        data: dict[str, Any] = entry.data
        history[entry.target_id].append(
            f"{iso(entry.created_at)} {entry.actor_name}: {data.get('from', '')} -> {data.get('to', '')}: "
            f"{data.get('note', '')}"
        )
    return history


def finding_rows(*, user: AnyUser | None, filters: ReportFilter | None = None) -> Iterator[Row]:
    """The findings a person may see, oldest first (by first seen), as export rows."""
    for chunk in in_chunks(findings_for_report(user=user, filters=filters)):
        history = _triage_history(chunk)
        for finding in chunk:
            yield finding_row(finding, history.get(str(finding.uuid)))


def finding_count(*, user: AnyUser | None, filters: ReportFilter | None = None) -> int:
    return findings_for_report(user=user, filters=filters).count()


REPORT = Report(
    name="findings",
    title="Findings",
    columns=FINDING_COLUMNS,
    rows=finding_rows,
    count=finding_count,
    filter_fields=("since", "until", "account", "environment", "kind", "severity", "status"),
    searches_account_names=True,
)
