"""Builders shared by the ingestion, reconciliation, findings and command tests.

Records are written as CloudTrail delivery files and ingested through the real services, and check-outs
are made through the real lifecycle services, then moved in time (the services stamp ``now``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from audits.ingest import ingest_paths
from audits.models import Finding, IngestionRun
from audits.reports import finding_rows
from audits.tests.cloudtrail.support import write_delivery
from breakglass import custody
from breakglass.models import AccessRequest, AwsAccount, Transition
from breakglass.tests.factories import AwsAccountFactory
from breakglass.tests.lifecycle_helpers import active, make_request

ACCOUNT_ID = "123456789012"
UNKNOWN_ACCOUNT_ID = "999988887777"
IP = "198.51.100.7"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hours_ago(hours: float) -> datetime:
    # Whole seconds: CloudTrail's times have none finer, and comparisons stay exact.
    return (timezone.now() - timedelta(hours=hours)).replace(microsecond=0)


def root_call(
    *,
    when: datetime,
    name: str = "ListBuckets",
    account: str = ACCOUNT_ID,
    event_id: str | None = None,
    source: str = "s3.amazonaws.com",
    ip: str = IP,
    key: str = "ASIAROOTCONSOLE",
    event_type: str = "AwsApiCall",
    **extra: Any,
) -> dict[str, Any]:
    """A root API call (type Root), as CloudTrail writes it."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "Root",
            "principalId": account,
            "arn": f"arn:aws:iam::{account}:root",
            "accountId": account,
            "accessKeyId": key,
        },
        "eventTime": iso(when),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": "console.amazonaws.com",
        "requestParameters": None,
        "responseElements": None,
        "eventID": event_id or str(uuid.uuid4()),
        "eventType": event_type,
        "recipientAccountId": account,
        **extra,
    }


def root_login(
    *,
    when: datetime,
    account: str = ACCOUNT_ID,
    mfa: str = "Yes",
    success: bool = True,
    event_id: str | None = None,
    ip: str = IP,
) -> dict[str, Any]:
    """A root console sign-in (always logged in us-east-1)."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "Root",
            "principalId": account,
            "arn": f"arn:aws:iam::{account}:root",
            "accountId": account,
            "accessKeyId": "",
        },
        "eventTime": iso(when),
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": "Mozilla/5.0",
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success" if success else "Failure"},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/", "MFAUsed": mfa},
        "eventID": event_id or str(uuid.uuid4()),
        "eventType": "AwsConsoleSignIn",
        "recipientAccountId": account,
    }


def ingest_records(tmp_path: Path, records: list[dict[str, Any]], *, name: str | None = None) -> IngestionRun:
    path = write_delivery(tmp_path / (name or f"{uuid.uuid4().hex}.json.gz"), records)
    return ingest_paths(paths=[path])


def make_account(approver: Any, custodian: Any, *, account_id: str = ACCOUNT_ID) -> AwsAccount:
    account = AwsAccountFactory(name="payments-prod", account_id=account_id, approval_quorum=1)
    account.approvers.set([approver])
    account.custodians.set([custodian])
    return account


def checkout(
    requester: Any,
    account: AwsAccount,
    approver: Any,
    *,
    out_at: datetime,
    minutes: int = 60,
    checked_in_at: datetime | None = None,
    root_task: str = "close_account",
) -> AccessRequest:
    """A check-out made through the services, then moved to ``out_at`` (and returned at ``checked_in_at``)."""
    request = active(make_request(requester, account, root_task=root_task), approver)
    if checked_in_at is not None:
        request = custody.access_request_check_in(
            request=request,
            actor=requester,
            work_done="Closed the account as planned.",
            envelope_number="ENV-2",
        )
    AccessRequest.objects.filter(pk=request.pk).update(
        checked_out_at=out_at, due_at=out_at + timedelta(minutes=minutes), checked_in_at=checked_in_at
    )
    request.refresh_from_db()
    return request


def move_transition(request: AccessRequest, to_status: str, when: datetime) -> None:
    Transition.objects.filter(request=request, to_status=to_status).update(created_at=when)


def canonical_findings() -> list[dict[str, Any]]:
    """The findings export without the moments that depend on when reconciliation ran."""
    volatile = {"alerted_at", "triaged_at"}
    return [{k: v for k, v in row.items() if k not in volatile} for row in finding_rows(user=None)]


def finding_of_kind(kind: str) -> Finding:
    """The one finding of ``kind`` (fails when there are none or several)."""
    return Finding.objects.get(kind=kind)
