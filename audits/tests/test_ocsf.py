"""Findings and ledger entries as OCSF 1.3 events (pure: no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from audits import ocsf

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _finding(**overrides: object) -> ocsf.FindingFacts:
    values: dict[str, object] = {
        "uuid": "9d0c", "code": "F-260501-ABCDEF", "kind": "unapproved_root_usage",
        "kind_label": "Root used without approval", "severity": "critical", "status": "open",
        "summary": "Root called PutBucketPolicy outside every check-out.", "aws_account_id": "123456789012",
        "first_seen": T0, "last_seen": T0 + timedelta(minutes=5), "created_at": T0 + timedelta(minutes=6),
        "updated_at": T0 + timedelta(minutes=6), "url": "https://portal.example/audit/findings/9d0c/",
        "event_ids": ("e1", "e2"),
    }  # fmt: skip
    values.update(overrides)
    return ocsf.FindingFacts(**values)  # type: ignore[arg-type]


def test_a_new_finding_is_a_detection_finding_created() -> None:
    event = ocsf.detection_finding(_finding())

    assert (event["class_uid"], event["category_uid"]) == (2004, 2)
    assert (event["activity_id"], event["type_uid"]) == (1, 200401)
    assert (event["severity_id"], event["status"]) == (5, "New")
    assert event["finding_info"]["uid"] == "F-260501-ABCDEF"
    assert event["finding_info"]["first_seen_time"] == int(T0.timestamp() * 1000)
    assert event["cloud"]["account"]["uid"] == "123456789012"
    assert event["unmapped"]["cloudtrail_event_ids"] == ["e1", "e2"]


def test_a_changed_finding_is_an_update_and_a_resolved_one_a_close() -> None:
    later = T0 + timedelta(hours=1)
    assert ocsf.detection_finding(_finding(updated_at=later, status="acknowledged"))["type_uid"] == 200402
    closed = ocsf.detection_finding(_finding(updated_at=later, status="resolved"))
    assert (closed["activity_id"], closed["status_id"], closed["status"]) == (3, 4, "Resolved")
    assert ocsf.detection_finding(_finding(status="false_positive"))["status"] == "Suppressed"


def _entry(action: str) -> ocsf.LedgerFacts:
    return ocsf.LedgerFacts(
        sequence=42, created_at=T0, actor_name="alan.approver", action=action, target_type="user",
        target_id="7", target_repr="rita.requester", request_id="req-1", data={"roles": ["Approver"]},
        hash="ab" * 32,
    )  # fmt: skip


def test_ledger_entries_are_account_changes_with_their_chain_hash() -> None:
    mfa = ocsf.account_change(_entry("mfa.authenticator_removed"))
    assert (mfa["class_uid"], mfa["activity_id"], mfa["type_uid"]) == (3001, 11, 300111)
    assert mfa["actor"]["user"]["name"] == "alan.approver"
    assert mfa["unmapped"]["ledger_hash"] == "ab" * 32
    assert mfa["metadata"]["sequence"] == 42

    other = ocsf.account_change(_entry("access_request.decision"))
    assert (other["activity_id"], other["activity_name"]) == (99, "access_request.decision")


def test_json_lines_are_one_compact_object_per_line() -> None:
    lines = list(ocsf.json_lines([ocsf.account_change(_entry("user.created")), {"b": 1}]))
    assert len(lines) == 2
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)
    assert json.loads(lines[0])["activity_name"] == "Create"


def test_a_change_from_the_ledger_stamps_the_event_with_its_sequence_and_kind() -> None:
    change = ocsf.ChangeFacts(
        sequence=7, action="finding.triaged", to_status="false_positive", actor_name="audrey.auditor",
        request_id="req-9", created_at=T0 + timedelta(days=1),
    )  # fmt: skip
    event = ocsf.detection_finding(_finding(status="false_positive"), change=change)

    assert (event["activity_name"], event["metadata"]["uid"]) == ("Close", "7")
    assert event["time"] == int((T0 + timedelta(days=1)).timestamp() * 1000)
    assert event["unmapped"]["changed_by"] == "audrey.auditor"
    assert event["resources"][0]["uid"] == "arn:aws:iam::123456789012:root"


def test_an_account_change_has_the_attributes_ocsf_requires() -> None:
    # OCSF 1.3.0 Account Change (3001): required attributes, and those of the objects it requires.
    event = ocsf.account_change(_entry("grant.created"))
    assert {
        "activity_id",
        "category_uid",
        "class_uid",
        "metadata",
        "severity_id",
        "time",
        "type_uid",
        "user",
    } <= set(event)
    assert {"product", "version"} <= set(event["metadata"])
    assert {"name", "vendor_name"} <= set(event["metadata"]["product"])
    assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
    assert (event["activity_id"], event["activity_name"]) == (7, "Attach Policy")
