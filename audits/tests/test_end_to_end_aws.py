"""From AWS to findings: each source read through boto3 against moto, stored, reconciled.

The acceptance cases of the ingestion issue, end to end: a root event inside a check-out window is
matched, one outside raises ``unapproved_root_usage``, a root sign-in without MFA raises
``root_login_without_mfa``, and a late event after check-in inside the grace period is matched.
"""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from audits.ingest import ingest_unit
from audits.models import Finding, IngestionCursor, IngestionSource, RootEvent
from audits.tests.cloudtrail.support import eventbridge, iam_user_record
from audits.tests.findings_support import ACCOUNT_ID, checkout, hours_ago, make_account, root_call, root_login

pytestmark = pytest.mark.django_db

BUCKET = "org-trail"
ORG = "o-abc123def4"


@pytest.fixture
def session_window(requester: Any, approver: Any, custodian: Any) -> Any:
    """A check-out from 3 h ago to 2 h ago on the inventory's account."""
    account = make_account(approver, custodian)
    return checkout(requester, account, approver, out_at=hours_ago(3), checked_in_at=hours_ago(2))


def acceptance_records() -> dict[str, dict[str, Any]]:
    return {
        "inside": root_call(when=hours_ago(2.5), name="CloseAccount", event_id="inside-1"),
        "outside": root_call(when=hours_ago(6), name="ListBuckets", event_id="outside-1"),
        "late": root_call(when=hours_ago(2) + timedelta(minutes=10), name="CloseAccount", event_id="late-1"),
        "no_mfa": root_login(when=hours_ago(6), mfa="No", event_id="nomfa-1"),
    }


def assert_acceptance(session: Any) -> None:
    events = {e.event_id: e for e in RootEvent.objects.all()}
    assert events["inside-1"].session_id == session.pk
    assert events["late-1"].session_id == session.pk
    assert events["outside-1"].session_id is None
    unapproved = Finding.objects.get(kind="unapproved_root_usage")
    assert set(unapproved.events.values_list("event_id", flat=True)) >= {"outside-1"}
    assert "inside-1" not in set(unapproved.events.values_list("event_id", flat=True))
    no_mfa = Finding.objects.get(kind="root_login_without_mfa")
    assert list(no_mfa.events.values_list("event_id", flat=True)) == ["nomfa-1"]
    assert no_mfa.severity == "critical"


def test_an_organization_trail_in_s3_ends_in_matched_events_and_findings(
    mocked_aws: None, session_window: Any
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    stamp = hours_ago(1)
    day = f"{stamp:%Y/%m/%d}"
    noise = [iam_user_record(i, account=ACCOUNT_ID) for i in range(500)]
    records = [*noise[:250], *acceptance_records().values(), *noise[250:]]
    key = (
        f"AWSLogs/{ORG}/{ACCOUNT_ID}/CloudTrail/us-east-1/{day}/"
        f"{ACCOUNT_ID}_CloudTrail_us-east-1_{stamp:%Y%m%dT%H%M}Z_abc.json.gz"
    )
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(json.dumps({"Records": records}).encode()))
    s3.put_object(Bucket=BUCKET, Key=key.replace("CloudTrail/", "CloudTrail-Digest/"), Body=b"{}")
    source = IngestionSource.objects.create(
        name="org trail", kind="s3", config={"bucket": BUCKET, "organization_id": ORG, "region": "us-east-1"}
    )

    run = ingest_unit(source=source, unit=f"{ACCOUNT_ID}/us-east-1")

    assert run is not None
    assert run.status == "succeeded", run.errors
    assert run.files_read == 1
    assert run.root_records == 4
    assert_acceptance(session_window)
    assert IngestionCursor.objects.get(source=source).position == key
    # Read again: nothing new, nothing changes.
    before = sorted(Finding.objects.values_list("dedupe_key", "status"))
    again = ingest_unit(source=source, unit=f"{ACCOUNT_ID}/us-east-1")
    assert again is not None
    assert again.files_read == 0
    assert sorted(Finding.objects.values_list("dedupe_key", "status")) == before


def test_lookup_events_with_paging_and_throttling_ends_in_findings(
    mocked_aws: None, lookup_events: Any, session_window: Any
) -> None:
    for record in acceptance_records().values():
        lookup_events.add(record, account=ACCOUNT_ID, region="us-east-1", username="root")
    for index in range(110):
        record = root_call(when=hours_ago(2.9) + timedelta(seconds=index), name="GetBucketPolicy")
        lookup_events.add(record, account=ACCOUNT_ID, region="us-east-1", username="root")
    lookup_events.throttle(1)
    source = IngestionSource.objects.create(
        name="event history",
        kind="lookup",
        config={"accounts": [ACCOUNT_ID], "regions": ["us-east-1"], "lookback_hours": 12},
    )

    run = ingest_unit(source=source, unit=f"{ACCOUNT_ID}/us-east-1")

    assert run is not None
    assert run.status == "succeeded", run.errors
    assert run.root_records == 114
    served = lookup_events.served(account=ACCOUNT_ID, region="us-east-1")
    assert len(served) == 3  # 114 events in pages of 50
    assert any(call.throttled for call in lookup_events.calls)
    assert_acceptance(session_window)


def test_eventbridge_via_sqs_raises_the_finding_and_deletes_messages_only_after_storing(
    mocked_aws: None, session_window: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="root-activity")["QueueUrl"]
    for record in acceptance_records().values():
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(eventbridge(record)))
    source = IngestionSource.objects.create(
        name="root activity queue", kind="sqs", config={"queue_url": queue_url, "wait_seconds": 0}
    )

    with django_capture_on_commit_callbacks(execute=True):
        run = ingest_unit(source=source, unit="root-activity")

    assert run is not None
    assert run.root_records == 4
    assert_acceptance(session_window)
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
