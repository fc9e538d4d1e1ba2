"""What the evidence page tests share that is not a fixture: the page URLs, and findings and root events
stored directly (reconciliation has its own tests; the pages only read them)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.urls import reverse

from audits.choices import FindingKind, FindingStatus, Severity
from audits.models import Finding, RootEvent
from audits.tests.findings_support import ACCOUNT_ID, hours_ago, root_call

FINDINGS = reverse("audits:finding_list")
RUNS = reverse("audits:run_list")
UPLOAD = reverse("audits:log_upload")


def make_event(*, account_id: str = ACCOUNT_ID, when: datetime | None = None, **raw_extra: Any) -> RootEvent:
    when = when or hours_ago(2)
    event_id = str(uuid.uuid4())
    raw = root_call(when=when, account=account_id, event_id=event_id, **raw_extra)
    return RootEvent.objects.create(
        event_id=event_id,
        aws_account_id=account_id,
        region="us-east-1",
        event_time=when,
        event_name=raw["eventName"],
        event_source=raw["eventSource"],
        event_type="AwsApiCall",
        source_ip=raw["sourceIPAddress"],
        raw=raw,
    )


def make_finding(
    *,
    account: Any = None,
    account_id: str = ACCOUNT_ID,
    kind: str = FindingKind.UNAPPROVED_ROOT_USAGE,
    severity: str = Severity.CRITICAL,
    status: str = FindingStatus.OPEN,
    when: datetime | None = None,
    session: Any = None,
    events: int = 1,
    summary: str = "Root used without an approved check-out.",
) -> Finding:
    """A finding stored directly (reconciliation has its own tests); the pages only read it."""
    when = when or hours_ago(2)
    finding = Finding.objects.create(
        code=f"F-{uuid.uuid4().hex[:10].upper()}",
        kind=kind,
        severity=severity,
        status=status,
        dedupe_key=f"test:{uuid.uuid4()}",
        aws_account_id=account.account_id if account is not None else account_id,
        account=account,
        session=session,
        first_seen=when,
        last_seen=when,
        summary=summary,
    )
    finding.events.set([make_event(account_id=finding.aws_account_id, when=when) for _ in range(events)])
    return finding


def detail_url(finding: Finding) -> str:
    return reverse("audits:finding_detail", kwargs={"uuid": finding.uuid})


def triage_url(finding: Finding) -> str:
    return reverse("audits:finding_triage", kwargs={"uuid": finding.uuid})
