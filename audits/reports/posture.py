"""The posture report: one row per posture finding (root access keys, root MFA missing or virtual, a
missing alternate contact, ...), with its status, so an auditor sees what the checks found and what
was fixed. The findings selector decides who sees which; the latest check results are on the
posture pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from audits.models import Finding
from audits.posture.controls import POSTURE_KINDS, contact_type_from_key
from audits.reports.base import Report, ReportFilter, Row, in_chunks, iso, may_read
from audits.reports.findings import as_finding_filter
from audits.selectors import findings_visible_to

if TYPE_CHECKING:
    from audits.reports.base import AnyUser

POSTURE_COLUMNS = (
    "kind",
    "account_id",
    "status",
    "contact_type",
    "severity",
    "code",
    "account_name",
    "environment",
    "first_seen",
    "last_seen",
    "summary",
)


def posture_row(finding: Finding) -> Row:
    account = finding.account
    return {
        "kind": finding.kind,
        "account_id": finding.aws_account_id or None,
        "status": finding.status,
        "contact_type": contact_type_from_key(finding.kind, finding.dedupe_key) or None,
        "severity": finding.severity,
        "code": finding.code,
        "account_name": account.name if account is not None else None,
        "environment": account.environment if account is not None else None,
        "first_seen": iso(finding.first_seen),
        "last_seen": iso(finding.last_seen),
        "summary": finding.summary,
    }


def posture_findings(*, user: AnyUser | None, filters: ReportFilter | None = None) -> QuerySet[Finding]:
    """Posture findings the person may see, by account then kind (the organization's own first)."""
    if not may_read(user):
        return Finding.objects.none()
    findings = findings_visible_to(user=user, filters=as_finding_filter(filters)).filter(
        kind__in=POSTURE_KINDS
    )
    if filters is not None and filters.environment:
        findings = findings.filter(account__environment=filters.environment)
    return findings.order_by("aws_account_id", "kind", "dedupe_key")


def posture_rows(*, user: AnyUser | None, filters: ReportFilter | None = None) -> Iterator[Row]:
    for chunk in in_chunks(posture_findings(user=user, filters=filters)):
        for finding in chunk:
            yield posture_row(finding)


def posture_count(*, user: AnyUser | None, filters: ReportFilter | None = None) -> int:
    return posture_findings(user=user, filters=filters).count()


REPORT = Report(
    name="posture",
    title="Root posture findings",
    columns=POSTURE_COLUMNS,
    rows=posture_rows,
    count=posture_count,
    filter_fields=("account", "environment", "kind", "status"),
)
