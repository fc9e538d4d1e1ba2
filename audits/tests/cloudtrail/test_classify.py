from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from audits.cloudtrail.classify import RecordFindingKind, classify, event_digest, parse_event_time

from .support import EVENTS, assume_root_call, load_event, member_root_action, root_login_record, shared_dir

LABELLED = sorted(EVENTS.glob("*.json"))
LABEL_FIELDS = ("is_root", "is_console_login", "mfa_used", "login_success", "is_service_event")


def test_there_are_labelled_fixtures_to_check() -> None:
    assert len(LABELLED) >= 30


@pytest.mark.parametrize("path", LABELLED, ids=lambda path: path.stem)
def test_it_classifies_every_labelled_fixture_as_labelled(path: Path) -> None:
    case = json.loads(path.read_text())

    result = classify(case["event"])

    assert {field: getattr(result, field) for field in LABEL_FIELDS} == case["label"]


def test_the_copied_fixtures_match_the_shared_ones() -> None:
    shared = shared_dir("events")

    assert sorted(p.name for p in shared.glob("*.json")) == [p.name for p in LABELLED]
    for path in LABELLED:
        assert (shared / path.name).read_bytes() == path.read_bytes(), path.name


def test_it_classifies_an_empty_record_without_raising() -> None:
    result = classify({})

    assert not result.is_root
    assert not result.attributable_to_person
    assert result.event_time is None
    assert result.finding_kinds == frozenset()
    assert result.event_id_is_digest


@pytest.mark.parametrize(
    "record",
    [
        {"userIdentity": None, "eventTime": None, "responseElements": "Success"},
        {"userIdentity": "Root", "additionalEventData": ["MFAUsed"], "eventName": 7},
        {"userIdentity": {"type": ["Root"], "sessionContext": "x"}, "requestParameters": [1, 2]},
        {"eventName": "ConsoleLogin", "responseElements": {"ConsoleLogin": None}},
        {"eventName": "AssumeRoot", "requestParameters": {"taskPolicyArn": "arn"}, "responseElements": 3},
    ],
)
def test_it_tolerates_fields_of_the_wrong_type(record: dict[str, Any]) -> None:
    result = classify(record)

    assert not result.is_root
    assert result.finding_kinds == frozenset()


def test_only_the_root_identity_type_counts_as_root() -> None:
    iam_user_named_root = {"userIdentity": {"type": "IAMUser", "userName": "root", "arn": "x:root"}}
    lower_case = {"userIdentity": {"type": "root"}}

    assert not classify(iam_user_named_root).is_root
    assert not classify(lower_case).is_root
    assert classify({"userIdentity": {"type": "Root"}}).is_root


def test_the_caller_of_assume_root_is_not_root_but_the_member_action_is() -> None:
    assert not classify(assume_root_call()).is_root
    member = classify(member_root_action())
    assert member.is_root
    assert member.via_assume_root
    assert member.access_key_id == "ASIAISSUEDKEY"


def test_it_extracts_the_assume_root_call_fields() -> None:
    result = classify(assume_root_call())

    assert result.is_assume_root_call
    assert result.assume_root_target == "222222222222"
    assert result.assume_root_task_policy_arn == (
        "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
    )
    assert result.assume_root_access_key_id == "ASIAISSUEDKEY"
    assert result.account_id == "111111111111"
    assert result.access_key_id == "ASIACALLER"
    assert not result.attributable_to_person


def test_a_failed_assume_root_call_is_still_an_assume_root_call_without_a_key() -> None:
    record = assume_root_call()
    record["errorCode"] = "AccessDenied"
    record["responseElements"] = None

    result = classify(record)

    assert result.is_assume_root_call
    assert result.assume_root_access_key_id is None
    assert not result.succeeded


def test_assume_root_from_another_service_is_not_an_assume_root_call() -> None:
    record = assume_root_call()
    record["eventSource"] = "iam.amazonaws.com"

    assert not classify(record).is_assume_root_call


@pytest.mark.parametrize("flag", ["Yes", "YES", "yes", " Yes "])
def test_it_compares_mfa_used_case_insensitively(flag: str) -> None:
    result = classify(root_login_record(mfa=flag))

    assert result.mfa_used is True
    assert RecordFindingKind.ROOT_LOGIN_WITHOUT_MFA not in result.finding_kinds


def test_mfa_used_wins_over_the_session_attribute() -> None:
    record = root_login_record(mfa="No")
    record["userIdentity"]["sessionContext"] = {"attributes": {"mfaAuthenticated": "true"}}

    assert classify(record).mfa_used is False


def test_mfa_falls_back_to_the_session_attribute_then_to_unknown() -> None:
    with_session = {
        "userIdentity": {"type": "Root", "sessionContext": {"attributes": {"mfaAuthenticated": "true"}}}
    }

    assert classify(with_session).mfa_used is True
    assert classify({"userIdentity": {"type": "Root"}}).mfa_used is None
    assert classify({"additionalEventData": {"MFAUsed": "maybe"}}).mfa_used is None


def test_a_root_login_without_mfa_is_a_finding() -> None:
    result = classify(root_login_record(mfa="No"))

    assert result.login_success is True
    assert result.finding_kinds == {RecordFindingKind.ROOT_LOGIN_WITHOUT_MFA}
    assert "root_login_without_mfa" in result.finding_kinds


def test_a_root_login_with_unknown_mfa_counts_as_without() -> None:
    record = root_login_record()
    del record["additionalEventData"]

    assert classify(record).finding_kinds == {"root_login_without_mfa"}


def test_a_failed_root_login_is_a_finding_but_not_one_without_mfa() -> None:
    result = classify(load_event("panther__root-login-failure.json"))

    assert result.finding_kinds == {"root_login_failed"}


def test_iam_user_logins_raise_no_root_findings() -> None:
    for name in ("invictus__iam-user-login-nomfa.json", "stratus__iam-user-login-nomfa.json"):
        assert classify(load_event(name)).finding_kinds == frozenset(), name


@pytest.mark.parametrize(
    ("fixture", "kinds"),
    [
        ("panther__root-createaccesskey-self-console.json", {"root_access_key_created"}),
        ("panther__root-createaccesskey-for-user.json", set()),
        ("panther__root-passwordupdated-success.json", {"root_password_recovery"}),
        ("panther__root-passwordupdated-failure.json", set()),
        ("panther-scenario__root-stoplogging-attacker.json", {"root_cloudtrail_tampering"}),
        ("panther__root-login-success-nomfa.json", {"root_login_without_mfa"}),
        ("panther__root-login-failure-minimal.json", {"root_login_failed"}),
        ("panther__root-listaccesskeys-readonly.json", set()),
        ("panther-scenario__root-createuser-attacker.json", set()),
    ],
)
def test_it_derives_the_finding_kinds_of_labelled_root_records(fixture: str, kinds: set[str]) -> None:
    assert classify(load_event(fixture)).finding_kinds == kinds


def _root(event_name: str, source: str, **fields: Any) -> dict[str, Any]:
    return {
        "userIdentity": {"type": "Root", "userName": "acme-prod"},
        "eventName": event_name,
        "eventSource": source,
        "eventType": "AwsApiCall",
        **fields,
    }


@pytest.mark.parametrize(
    ("record", "kind"),
    [
        (
            _root("CreateAccessKey", "iam.amazonaws.com", requestParameters={"userName": "acme-prod"}),
            "root_access_key_created",
        ),
        (_root("PasswordRecoveryRequested", "signin.amazonaws.com"), "root_password_recovery"),
        (_root("PasswordRecoveryCompleted", "signin.amazonaws.com"), "root_password_recovery"),
        (_root("CreateLoginProfile", "iam.amazonaws.com"), "root_password_recovery"),
        (
            _root("EnableMFADevice", "iam.amazonaws.com", requestParameters={"userName": "AWS ROOT USER"}),
            "root_mfa_changed",
        ),
        (_root("DeactivateMFADevice", "iam.amazonaws.com"), "root_mfa_changed"),
        (_root("DeleteVirtualMFADevice", "iam.amazonaws.com"), "root_mfa_changed"),
        (_root("CreateVirtualMFADevice", "iam.amazonaws.com"), "root_mfa_changed"),
        (_root("DeleteTrail", "cloudtrail.amazonaws.com"), "root_cloudtrail_tampering"),
        (_root("UpdateTrail", "cloudtrail.amazonaws.com"), "root_cloudtrail_tampering"),
        (_root("PutEventSelectors", "cloudtrail.amazonaws.com"), "root_cloudtrail_tampering"),
        (_root("PutInsightSelectors", "cloudtrail.amazonaws.com"), "root_cloudtrail_tampering"),
    ],
)
def test_it_derives_each_root_finding_kind(record: dict[str, Any], kind: str) -> None:
    assert classify(record).finding_kinds == {kind}


@pytest.mark.parametrize(
    "record",
    [
        _root("CreateAccessKey", "iam.amazonaws.com", errorCode="LimitExceeded"),
        _root("EnableMFADevice", "iam.amazonaws.com", errorCode="EntityAlreadyExists"),
        _root("PasswordUpdated", "signin.amazonaws.com", responseElements={"PasswordUpdated": "Failure"}),
    ],
)
def test_a_root_credential_change_that_failed_raises_no_finding(record: dict[str, Any]) -> None:
    assert classify(record).finding_kinds == frozenset()


def test_a_failed_attempt_to_stop_the_trail_is_still_tampering() -> None:
    record = _root("StopLogging", "cloudtrail.amazonaws.com", errorCode="AccessDenied")

    assert classify(record).finding_kinds == {"root_cloudtrail_tampering"}


def test_root_creating_a_login_profile_for_an_iam_user_is_not_password_recovery() -> None:
    record = _root("CreateLoginProfile", "iam.amazonaws.com", requestParameters={"userName": "bob"})

    assert classify(record).finding_kinds == frozenset()


def test_service_events_are_never_attributed_to_a_person() -> None:
    record = _root("StopLogging", "cloudtrail.amazonaws.com", eventType="AwsServiceEvent")

    result = classify(record)

    assert result.is_root
    assert result.is_service_event
    assert not result.attributable_to_person
    assert result.finding_kinds == frozenset()


def test_same_record_without_event_id_gets_the_same_digest_id() -> None:
    record = load_event("panther__root-login-failure-minimal.json")
    reordered = dict(reversed(list(record.items())))

    first, second = classify(record), classify(json.loads(json.dumps(reordered)))

    assert first.event_id_is_digest
    assert first.event_id == second.event_id == event_digest(record)
    assert len(first.event_id) == 64


def test_different_records_without_event_id_get_different_ids() -> None:
    record = load_event("panther__root-login-failure-minimal.json")
    other = json.loads(json.dumps(record))
    other["recipientAccountId"] = "999999999999"

    assert classify(record).event_id != classify(other).event_id


def test_a_record_with_an_event_id_keeps_it() -> None:
    result = classify(root_login_record(event_id="6bf8950b-f1ed-439d-8fc8-211645bfbe0f"))

    assert result.event_id == "6bf8950b-f1ed-439d-8fc8-211645bfbe0f"
    assert not result.event_id_is_digest


def test_it_reads_the_plain_fields() -> None:
    result = classify(load_event("invictus__iam-user-login-nomfa.json"))

    assert result.event_id == "70e5932e-9022-4b38-837e-ca10dad94eb7"
    assert result.event_time == datetime(2023, 7, 10, 12, 23, 15, tzinfo=UTC)
    assert result.account_id == "123837392027"
    assert result.region == "us-east-1"
    assert result.event_name == "ConsoleLogin"
    assert result.event_source == "signin.amazonaws.com"
    assert result.source_ip is not None
    assert result.user_agent is not None


def test_the_account_falls_back_to_the_identity_account() -> None:
    assert classify({"userIdentity": {"accountId": "123456789012"}}).account_id == "123456789012"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-07-10T11:57:16Z", datetime(2023, 7, 10, 11, 57, 16, tzinfo=UTC)),
        ("2024-06-02 20:27:12", datetime(2024, 6, 2, 20, 27, 12, tzinfo=UTC)),
        ("2024-06-03 15:23:22.000000000", datetime(2024, 6, 3, 15, 23, 22, tzinfo=UTC)),
        ("2024-06-03T15:23:22.123456789Z", datetime(2024, 6, 3, 15, 23, 22, 123456, tzinfo=UTC)),
        ("2024-06-03T17:23:22+02:00", datetime(2024, 6, 3, 15, 23, 22, tzinfo=UTC)),
        ("redacted", None),
        ("2024-13-45T99:00:00Z", None),
        ("", None),
        (None, None),
        (1717428202, None),
    ],
)
def test_it_parses_event_times_as_aware_utc(value: Any, expected: datetime | None) -> None:
    parsed = parse_event_time(value)

    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC
