"""Helpers shared by the CloudTrail tests: fixture locations and synthetic records and files."""

from __future__ import annotations

import copy
import gzip
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent / "data"
EVENTS = DATA / "events"
# ../shared/fixtures/cloudtrail relative to the repository root (the real logs are only there).
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "cloudtrail"


def shared_dir(name: str) -> Path:
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"shared CloudTrail fixtures not found at {path} (they live outside the repository)")
    return path


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())["event"]


def iam_user_record(index: int, *, account: str = "123456789012") -> dict[str, Any]:
    """A realistic non-root record, different for every index."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": f"arn:aws:iam::{account}:user/deploy",
            "accountId": account,
            "accessKeyId": "AKIAEXAMPLE",
            "userName": "deploy",
        },
        "eventTime": f"2024-05-01T10:{index // 60 % 60:02d}:{index % 60:02d}Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject" if index % 3 else "ListBuckets",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-sdk-go/1.44.0 (go1.21; linux; amd64)",
        "requestParameters": {"bucketName": f"logs-{index % 17}", "key": f"k/{index}.json"},
        "responseElements": None,
        "requestID": f"REQ{index:012d}",
        "eventID": str(uuid.UUID(int=index + 1)),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": account,
    }


#: Five ordinary (not root) records, the content of most synthetic files in the reader's tests.
RECORDS = [iam_user_record(i) for i in range(5)]


def serialised_user_records(count: int) -> list[bytes]:
    """``count`` distinct non-root records, serialised compactly; fast enough for tens of thousands."""
    template = compact(iam_user_record(0))
    before, after = template.split(str(uuid.UUID(int=1)).encode())
    return [before + str(uuid.UUID(int=index + 1)).encode() + after for index in range(count)]


def root_login_record(*, mfa: str = "No", event_id: str = "root-login-1") -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "Root",
            "principalId": "123456789012",
            "arn": "arn:aws:iam::123456789012:root",
            "accountId": "123456789012",
            "accessKeyId": "",
        },
        "eventTime": "2024-05-01T12:00:00Z",
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "Mozilla/5.0",
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success"},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/", "MFAUsed": mfa},
        "eventID": event_id,
        "eventType": "AwsConsoleSignIn",
        "recipientAccountId": "123456789012",
    }


def assume_root_call(*, event_id: str = "assume-root-1") -> dict[str, Any]:
    """The management-account event of sts:AssumeRoot, shaped like AWS's documented example."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:alice",
            "arn": "arn:aws:sts::111111111111:assumed-role/BreakGlass/alice",
            "accountId": "111111111111",
            "accessKeyId": "ASIACALLER",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111111111111:role/BreakGlass"},
                "attributes": {"creationDate": "2024-05-01T09:59:00Z", "mfaAuthenticated": "false"},
                "assumedRoot": "true",
            },
        },
        "eventTime": "2024-05-01T10:00:00Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRoot",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "192.0.2.1",
        "userAgent": "Boto3/1.35.0",
        "requestParameters": {
            "targetPrincipal": "222222222222",
            "taskPolicyArn": {"arn": "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"},
        },
        "responseElements": {
            "credentials": {
                "accessKeyId": "ASIAISSUEDKEY",
                "sessionToken": "token",
                "expiration": "May 1, 2024, 10:15:00 AM",
            },
            "sourceIdentity": "alice",
        },
        "eventID": event_id,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111111111111",
    }


def member_root_action(*, key: str = "ASIAISSUEDKEY") -> dict[str, Any]:
    """A member-account action made with AssumeRoot credentials: type Root, the issued key."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "Root",
            "principalId": "222222222222",
            "arn": "arn:aws:iam::222222222222:root",
            "accountId": "222222222222",
            "accessKeyId": key,
            "sessionContext": {"attributes": {"mfaAuthenticated": "false"}, "assumedRoot": "true"},
        },
        "eventTime": "2024-05-01T10:01:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "DeleteLoginProfile",
        "awsRegion": "us-east-1",
        "requestParameters": None,
        "eventID": "member-root-1",
        "eventType": "AwsApiCall",
        "recipientAccountId": "222222222222",
    }


def compact(record: Any) -> bytes:
    """Serialised as CloudTrail writes it: no spaces."""
    return json.dumps(record, separators=(",", ":")).encode()


def delivery_bytes(records: list[dict[str, Any]], *, pretty: bool = False) -> bytes:
    if pretty:
        return json.dumps({"Records": records}, indent=2).encode()
    return b'{"Records":[' + b",".join(compact(r) for r in records) + b"]}"


def write_delivery(path: Path, records: list[dict[str, Any]], *, pretty: bool = False) -> Path:
    data = delivery_bytes(records, pretty=pretty)
    path.write_bytes(gzip.compress(data, compresslevel=1) if path.suffix == ".gz" else data)
    return path


def write_lines(path: Path, lines: list[Any]) -> Path:
    data = b"\n".join(line if isinstance(line, bytes) else compact(line) for line in lines) + b"\n"
    path.write_bytes(gzip.compress(data, compresslevel=1) if path.suffix == ".gz" else data)
    return path


def eventbridge(record: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge event carrying a CloudTrail record, as SQS delivers it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS Console Sign In via CloudTrail",
        "source": "aws.signin",
        "account": record.get("recipientAccountId", "123456789012"),
        "time": "2024-05-01T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": copy.deepcopy(record),
    }
