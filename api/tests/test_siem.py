"""The SIEM pull endpoint: OCSF Detection Findings in JSON Lines after a ledger-sequence cursor, each
with OCSF's required fields, only the findings the token's person may see."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from api.choices import Scope
from api.tests.conftest import ApiClient
from audits import services
from audits.tests.findings_support import UNKNOWN_ACCOUNT_ID
from audits.tests.views.support import make_finding
from ledger import services as ledger

pytestmark = pytest.mark.django_db

SIEM = "/api/v1/siem/findings"

# OCSF 1.3.0, Detection Finding (class 2004): the attributes the schema marks required, and those of
# the objects it requires (finding_info, metadata and its product) and of cloud, which we send.
REQUIRED = {
    "activity_id",
    "category_uid",
    "class_uid",
    "finding_info",
    "metadata",
    "severity_id",
    "time",
    "type_uid",
}
REQUIRED_FINDING_INFO = {"uid", "title"}
REQUIRED_METADATA = {"product", "version"}
REQUIRED_CLOUD = {"provider"}


def _raised(**kwargs: Any) -> Any:
    finding = make_finding(**kwargs)
    ledger.record(actor=None, action="finding.raised", target=finding, data={"code": finding.code})
    return finding


def _read(client: ApiClient, cursor: int = 0, **params: Any) -> tuple[list[dict[str, Any]], int]:
    response = client.get(SIEM, {"cursor": cursor, **params})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/x-ndjson"
    lines = response.content.decode().splitlines()
    return [json.loads(line) for line in lines], int(response["X-Next-Cursor"])


def test_each_event_is_an_ocsf_detection_finding_with_the_required_fields(
    auditor: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    finding = _raised(account=account)
    [event], _ = _read(api_as(auditor, Scope.READ_FINDINGS))
    assert set(event) >= REQUIRED
    assert set(event["finding_info"]) >= REQUIRED_FINDING_INFO
    assert set(event["metadata"]) >= REQUIRED_METADATA
    assert {"name", "vendor_name"} <= set(event["metadata"]["product"])
    assert set(event["cloud"]) >= REQUIRED_CLOUD
    assert (event["class_uid"], event["category_uid"], event["activity_id"]) == (2004, 2, 1)
    assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
    assert isinstance(event["time"], int)
    assert 1 <= event["severity_id"] <= 6
    assert event["severity_id"] == 5  # critical
    assert event["finding_info"]["uid"] == finding.code
    assert event["cloud"]["account"]["uid"] == "123456789012"
    assert event["unmapped"]["cloudtrail_event_ids"] == [e.event_id for e in finding.events.all()]
    assert event["metadata"]["version"] == "1.3.0"


def test_the_cursor_gives_each_change_once_and_a_triage_closes_the_finding(
    auditor: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    client = api_as(auditor, Scope.READ_FINDINGS)
    first = _raised(account=account)
    events, cursor = _read(client)
    assert [e["finding_info"]["uid"] for e in events] == [first.code]
    assert _read(client, cursor) == ([], cursor)  # nothing new: empty, same cursor

    services.finding_triage(finding=first, actor=auditor, status="resolved", note="Confirmed with the owner.")
    second = _raised(account=account)
    events, next_cursor = _read(client, cursor)
    assert [(e["finding_info"]["uid"], e["activity_name"], e["status"]) for e in events] == [
        (first.code, "Close", "Resolved"),
        (second.code, "Create", "New"),
    ]
    assert next_cursor > cursor
    events, _ = _read(client, cursor, limit=1)
    assert len(events) == 1


def test_a_person_reads_only_the_findings_of_their_pages(
    approver: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    unknown = _raised(account_id=UNKNOWN_ACCOUNT_ID)
    theirs = _raised(account=account)
    events, cursor = _read(api_as(approver, Scope.READ_FINDINGS))
    assert [e["finding_info"]["uid"] for e in events] == [theirs.code]
    assert unknown.code not in json.dumps(events)
    assert cursor > 0


def test_the_stream_needs_the_findings_scope(requester: Any, api_as: Callable[..., ApiClient]) -> None:
    assert api_as(requester, Scope.READ_INVENTORY).get(SIEM).status_code == 403


def test_the_ledger_feed_gives_each_entry_once_with_its_hash_to_ledger_readers_only(
    auditor: Any, approver: Any, api_as: Callable[..., ApiClient]
) -> None:
    for n in range(3):
        ledger.record(actor=None, action="test.siem", data={"n": n})
    client = api_as(auditor, Scope.READ_FINDINGS)

    response = client.get("/api/v1/siem/ledger", {"cursor": 0, "limit": 2})
    assert response.status_code == 200
    first = [json.loads(line) for line in response.content.decode().splitlines()]
    again = client.get("/api/v1/siem/ledger", {"cursor": response["X-Next-Cursor"]})
    rest = [json.loads(line) for line in again.content.decode().splitlines()]

    sequences = [event["metadata"]["sequence"] for event in first + rest]
    assert len(first) == 2
    assert sequences == sorted(set(sequences))
    assert all(event["class_uid"] == 3001 and event["unmapped"]["ledger_hash"] for event in first + rest)
    # An approver reads the findings of his accounts, not the ledger.
    assert api_as(approver, Scope.READ_FINDINGS).get("/api/v1/siem/ledger").status_code == 403
