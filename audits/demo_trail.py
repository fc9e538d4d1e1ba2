"""Sample CloudTrail for the demo organization behind ``make run``, so the findings, runs and
session pages have something to show.

The records are written as one delivery file (``{"Records": [...]}``) into ``var/demo-cloudtrail``
and ingested like any log file, through ``ingest_paths``: the demo's findings come from the real
screen, store and reconciliation. Event ids are fixed, so a second ``make run`` stores nothing new;
the file is only ingested when none of its events is stored yet.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings

from audits.ingest import ingest_paths
from audits.models import IngestionRun, RootEvent

_NAMESPACE = uuid.UUID("5f0c1d8e-6a4b-4d1e-9b51-2f3a7c9e0d11")


@dataclass(frozen=True)
class SampleEvent:
    key: str
    account_id: str
    days_ago: float
    event_name: str
    event_source: str = "signin.amazonaws.com"
    mfa_used: bool | None = None
    login_success: bool | None = None


#: Root activity across the demo accounts (breakglass.demo.ACCOUNTS), none of it inside a check-out:
#: sign-ins with and without MFA, a failed sign-in, an access key created, a password change.
SAMPLE_EVENTS = (
    SampleEvent("payments-login", "100000000003", 3.2, "ConsoleLogin", mfa_used=True, login_success=True),
    SampleEvent("payments-support", "100000000003", 3.1, "UpdateSupportPlan", "support.amazonaws.com"),
    SampleEvent("web-prod-key", "100000000004", 5.5, "CreateAccessKey", "iam.amazonaws.com"),
    SampleEvent("mgmt-failed", "100000000001", 1.4, "ConsoleLogin", mfa_used=False, login_success=False),
    SampleEvent("archive-nomfa", "100000000007", 9.0, "ConsoleLogin", mfa_used=False, login_success=True),
    SampleEvent("staging-password", "100000000005", 12.0, "PasswordUpdated", mfa_used=True),
)


def sample_records(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """The sample events as CloudTrail records (times relative to ``now``)."""
    now = now or datetime.now(UTC)
    return [_record(event, now) for event in SAMPLE_EVENTS]


def _record(event: SampleEvent, now: datetime) -> dict[str, Any]:
    when = (now - timedelta(days=event.days_ago)).replace(microsecond=0)
    account = event.account_id
    console = event.event_source == "signin.amazonaws.com"
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "Root",
            "principalId": account,
            "arn": f"arn:aws:iam::{account}:root",
            "accountId": account,
        },
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": event.event_source,
        "eventName": event.event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.24",
        "userAgent": "Mozilla/5.0 (demo)",
        "requestParameters": None,
        "eventID": str(uuid.uuid5(_NAMESPACE, event.key)),
        "readOnly": False,
        "eventType": "AwsConsoleSignIn" if console else "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
    }
    if event.login_success is not None:
        record["responseElements"] = {"ConsoleLogin": "Success" if event.login_success else "Failure"}
    if event.mfa_used is not None:
        record["additionalEventData"] = {"MFAUsed": "Yes" if event.mfa_used else "No"}
    return record


def seed_demo_trail(*, folder: Path | None = None) -> IngestionRun | None:
    """Write and ingest the sample file; None when its events are already stored."""
    ids = [str(uuid.uuid5(_NAMESPACE, event.key)) for event in SAMPLE_EVENTS]
    if RootEvent.objects.filter(event_id__in=ids).exists():
        return None
    folder = folder or Path(settings.VAR_DIR) / "demo-cloudtrail"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demo-organization-trail.json"
    path.write_text(json.dumps({"Records": sample_records()}, indent=1), encoding="utf-8")
    return ingest_paths(paths=[path], names={path: "demo-organization-trail.json (sample)"})
