"""Reconciliation by AssumeRoot key (issue 12): a session's key ties the member account's records and
the management account's AssumeRoot record to the session whatever their time and whichever arrives
first; a key the portal did not issue is ``assume_root_unbrokered`` (critical, naming the caller),
and the portal's own posture keys raise nothing."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audits.choices import FindingKind, FindingStatus
from audits.incidents import group_into_incidents
from audits.models import AssumeRootCall, Finding, IssuedRootKey, RootEvent
from audits.reconcile import reconcile
from audits.tests.findings_support import ingest_records, iso
from breakglass import custody, task_runs
from breakglass.choices import GovernanceMode
from breakglass.models import AccessRequest
from breakglass.tests.factories import AwsAccountFactory
from breakglass.tests.lifecycle_helpers import approve, make_request

pytestmark = pytest.mark.django_db

MEMBER = "222222222222"
MANAGEMENT = "111111111111"
CALLER = "arn:aws:sts::111111111111:assumed-role/OpsAdmin/mallory"
PORTAL_ROLE = "arn:aws:sts::111111111111:assumed-role/BreakGlassPortal/portal"


def assume_root_record(*, key: str, when: datetime, caller: str = CALLER) -> dict[str, Any]:
    """The management account's record of sts:AssumeRoot (AWS's documented shape)."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": caller,
            "accountId": MANAGEMENT,
            "accessKeyId": "ASIACALLER",
        },
        "eventTime": iso(when),
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRoot",
        "awsRegion": "eu-west-1",
        "requestParameters": {
            "targetPrincipal": MEMBER,
            "taskPolicyArn": {"arn": "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"},
        },
        "responseElements": {"credentials": {"accessKeyId": key, "expiration": "soon"}},
        "eventID": str(uuid.uuid4()),
        "eventType": "AwsApiCall",
        "recipientAccountId": MANAGEMENT,
    }


def member_action(*, key: str, when: datetime, name: str = "DeleteLoginProfile") -> dict[str, Any]:
    """A member-account action made with AssumeRoot credentials."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "Root",
            "principalId": MEMBER,
            "arn": f"arn:aws:iam::{MEMBER}:root",
            "accountId": MEMBER,
            "accessKeyId": key,
            "sessionContext": {"attributes": {"mfaAuthenticated": "false"}, "assumedRoot": "true"},
        },
        "eventTime": iso(when),
        "eventSource": "iam.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.9",
        "requestParameters": None,
        "eventID": str(uuid.uuid4()),
        "eventType": "AwsApiCall",
        "recipientAccountId": MEMBER,
    }


def issue(key: str, *, purpose: str, reference: str) -> None:
    IssuedRootKey.objects.create(
        access_key_id=key,
        account_id=MEMBER,
        task_policy_arn="arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials",
        purpose=purpose,
        reference=reference,
        issued_at=timezone.now(),
    )


@pytest.fixture
def member(approver: Any) -> Any:
    account = AwsAccountFactory(
        name="data-lake", account_id=MEMBER, governance_mode=GovernanceMode.CENTRALISED
    )
    account.approvers.set([approver])
    return account


@pytest.fixture
def session(requester: Any, approver: Any, member: Any) -> AccessRequest:
    request = approve(make_request(requester, member, root_task="assume_root_delete_credentials"), approver)
    return custody.access_request_check_out(request=request, requester=requester)


def record_run(session: AccessRequest, key: str) -> None:
    """What ``audits.task_runner`` does around AWS: the issued key first, then the outcome."""
    run = task_runs.task_run_start(request=session, holder=session.requester)
    issue(key, purpose="session", reference=session.code)
    task_runs.task_run_finish(
        run=run,
        ok=True,
        error="",
        access_key_id=key,
        found={"deleted": ["login profile"]},
        finished_at=timezone.now(),
    )


def move_window_back(session: AccessRequest, hours: int) -> None:
    """The session held root ``hours`` ago: records of now are far outside its window."""
    past = timezone.now() - timedelta(hours=hours)
    AccessRequest.objects.filter(pk=session.pk).update(
        checked_out_at=past, due_at=past + timedelta(minutes=30), checked_in_at=past + timedelta(minutes=5)
    )


def test_records_arriving_hours_after_the_window_are_the_sessions_by_key(
    tmp_path: Path, session: AccessRequest
) -> None:
    record_run(session, "ASIASESSIONKEY01")
    move_window_back(session, hours=6)
    now = timezone.now().replace(microsecond=0)

    ingest_records(
        tmp_path,
        [
            assume_root_record(key="ASIASESSIONKEY01", when=now, caller=PORTAL_ROLE),
            member_action(key="ASIASESSIONKEY01", when=now),
            member_action(key="ASIASESSIONKEY01", when=now, name="DeactivateMFADevice"),
        ],
    )

    events = list(RootEvent.objects.all())
    assert [event.session_id for event in events] == [session.pk, session.pk]
    assert all(event.in_scope for event in events)
    assert AssumeRootCall.objects.get().session_id == session.pk
    assert list(Finding.objects.values_list("kind", "summary")) == []
    # The session's page shows both, the management account's record with its caller.
    client = Client()
    client.force_login(session.requester)
    html = client.get(reverse("breakglass:request_detail", kwargs={"uuid": session.uuid})).content.decode()
    assert "DeactivateMFADevice" in html
    assert PORTAL_ROLE in html


def test_records_stored_before_the_key_is_recorded_move_to_the_session_at_the_next_reconciliation(
    tmp_path: Path, session: AccessRequest
) -> None:
    now = timezone.now().replace(microsecond=0)
    ingest_records(tmp_path, [member_action(key="ASIASESSIONKEY02", when=now)])
    # Not issued (yet): made with AssumeRoot credentials nobody recorded, so unbrokered for now.
    assert RootEvent.objects.get().session_id is None
    assert {f.kind for f in Finding.objects.all()} == {
        FindingKind.UNAPPROVED_ROOT_USAGE,
        FindingKind.ASSUME_ROOT_UNBROKERED,
    }

    record_run(session, "ASIASESSIONKEY02")
    move_window_back(session, hours=3)  # the key, not the window, makes the link
    reconcile(account_ids=[MEMBER])

    assert RootEvent.objects.get().session_id == session.pk
    assert set(Finding.objects.values_list("status", flat=True)) == {FindingStatus.RESOLVED}


def test_an_assume_root_call_the_portal_did_not_make_is_critical_and_names_the_caller(
    tmp_path: Path, member: Any
) -> None:
    now = timezone.now().replace(microsecond=0)
    ingest_records(
        tmp_path,
        [
            assume_root_record(key="ASIAROGUE0000001", when=now),
            member_action(key="ASIAROGUE0000001", when=now + timedelta(minutes=1)),
        ],
    )

    unbrokered = Finding.objects.get(kind=FindingKind.ASSUME_ROOT_UNBROKERED)
    assert unbrokered.severity == "critical"
    assert unbrokered.dedupe_key == f"assume_root_unbrokered:{MEMBER}:ASIAROGUE0000001"
    assert CALLER in unbrokered.summary
    assert "DeleteLoginProfile" in unbrokered.summary
    assert unbrokered.alerted_at is not None
    unapproved = Finding.objects.get(kind=FindingKind.UNAPPROVED_ROOT_USAGE)
    assert unapproved.severity == "critical"
    # The same member action in both: one incident on the findings page.
    both = list(Finding.objects.prefetch_related("events").order_by("code"))
    incidents = group_into_incidents(both)
    assert len(incidents) == 1
    assert incidents[0].is_group


def test_the_call_alone_raises_it_before_any_member_record_arrives(tmp_path: Path, member: Any) -> None:
    ingest_records(
        tmp_path, [assume_root_record(key="ASIAROGUE0000002", when=timezone.now().replace(microsecond=0))]
    )

    finding = Finding.objects.get(kind=FindingKind.ASSUME_ROOT_UNBROKERED)
    assert CALLER in finding.summary
    assert "No action made with the key has arrived yet" in finding.summary


def test_member_records_before_their_call_say_the_caller_is_not_known_yet_then_name_it(
    tmp_path: Path, member: Any
) -> None:
    now = timezone.now().replace(microsecond=0)
    ingest_records(tmp_path, [member_action(key="ASIAROGUE0000003", when=now)], name="member.json")
    finding = Finding.objects.get(kind=FindingKind.ASSUME_ROOT_UNBROKERED)
    assert "caller is not known yet" in finding.summary

    ingest_records(tmp_path, [assume_root_record(key="ASIAROGUE0000003", when=now)], name="management.json")

    finding.refresh_from_db()
    assert CALLER in finding.summary
    assert Finding.objects.filter(kind=FindingKind.ASSUME_ROOT_UNBROKERED).count() == 1


def test_an_unbrokered_key_used_during_a_session_is_not_covered_by_its_window(
    tmp_path: Path, session: AccessRequest
) -> None:
    now = timezone.now().replace(microsecond=0)
    ingest_records(tmp_path, [member_action(key="ASIAROGUE0000004", when=now)])

    assert RootEvent.objects.get().session_id is None
    assert Finding.objects.filter(kind=FindingKind.ASSUME_ROOT_UNBROKERED).exists()


def test_the_portals_own_posture_keys_raise_nothing(tmp_path: Path, member: Any) -> None:
    issue("ASIAPOSTURE00001", purpose="posture", reference="posture-run-1")
    now = timezone.now().replace(microsecond=0)

    ingest_records(
        tmp_path,
        [
            assume_root_record(key="ASIAPOSTURE00001", when=now, caller=PORTAL_ROLE),
            member_action(key="ASIAPOSTURE00001", when=now, name="GetLoginProfile"),
            member_action(key="ASIAPOSTURE00001", when=now, name="ListAccessKeys"),
        ],
    )

    assert RootEvent.objects.count() == 2
    assert not Finding.objects.exists()
    assert AssumeRootCall.objects.get().session_id is None


def test_an_assume_root_call_that_issued_no_key_raises_nothing(tmp_path: Path, member: Any) -> None:
    refused = assume_root_record(key="", when=timezone.now().replace(microsecond=0))
    refused["responseElements"] = None
    refused["errorCode"] = "AccessDenied"

    ingest_records(tmp_path, [refused])

    assert not Finding.objects.filter(kind=FindingKind.ASSUME_ROOT_UNBROKERED).exists()


def _reconcile_queries() -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        reconcile(account_ids=[MEMBER])
    return len(queries)


def test_matching_by_key_costs_the_same_queries_however_many_sessions_and_keys(
    tmp_path: Path, requester: Any, approver: Any, member: Any
) -> None:
    def one_more_session(index: int) -> None:
        request = approve(
            make_request(requester, member, root_task="assume_root_audit_credentials"), approver
        )
        session = custody.access_request_check_out(request=request, requester=requester)
        record_run(session, f"ASIAKEY{index:09d}")
        now = timezone.now().replace(microsecond=0)
        ingest_records(tmp_path, [member_action(key=f"ASIAKEY{index:09d}", when=now, name="ListAccessKeys")])

    one_more_session(0)
    reconcile(account_ids=[MEMBER])
    few = _reconcile_queries()
    for index in range(1, 6):
        one_more_session(index)
    reconcile(account_ids=[MEMBER])

    assert _reconcile_queries() == few  # 11 queries on PostgreSQL, with one session or six
    assert RootEvent.objects.filter(session__isnull=False).count() == 6
