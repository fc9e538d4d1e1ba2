"""Which findings one account should have: pure given the loaded rows (first tests, no database),
then through ingestion and the lifecycle."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from audits.choices import SEVERITY_BY_KIND, FindingKind, FindingStatus, Severity
from audits.models import Finding, RootEvent
from audits.reconcile import reconcile
from audits.reconcile.wanted import (
    FAILED_LOGIN_BURST,
    MANAGED_KINDS,
    PER_EVENT_KINDS,
    Wanted,
    dedupe_key,
    wanted_findings,
)
from audits.reconcile.windows import ReconcileConfig, Windows, match_events, window_of
from audits.tests.findings_support import (
    ACCOUNT_ID,
    checkout,
    finding_of_kind,
    hours_ago,
    ingest_records,
    root_call,
    root_login,
)
from audits.tests.reconcile import memory
from audits.tests.reconcile.memory import T0, M
from breakglass import lifecycle
from breakglass.choices import CredentialStorage, RequestStatus
from breakglass.models import AccessRequest, RootCredential
from breakglass.tests.factories import PhysicalCredentialFactory
from breakglass.tests.lifecycle_helpers import make_request
from ledger.models import LedgerEntry

K = FindingKind
CONFIG = ReconcileConfig(
    grace_before=5 * M,
    grace_after=30 * M,
    rotation_overdue=timedelta(hours=24),
    emergency_review=timedelta(hours=24),
    emergency_ack=15 * M,
)


def wanted(
    events: list[RootEvent],
    sessions: list[AccessRequest] | None = None,
    *,
    now: datetime = T0 + timedelta(days=3),
    credential: RootCredential | None = None,
) -> dict[str, Wanted]:
    sessions = sessions or []
    match_events(events, Windows([window_of(session, CONFIG) for session in sessions]), now=now)
    return wanted_findings(
        aws_account_id=ACCOUNT_ID,
        label="payments-prod (123456789012)",
        events=events,
        sessions=sessions,
        credential=credential,
        now=now,
        config=CONFIG,
    )


def test_every_managed_kind_has_its_severity_in_one_table() -> None:
    assert set(SEVERITY_BY_KIND) == set(FindingKind)
    assert PER_EVENT_KINDS <= MANAGED_KINDS


def test_dedupe_keys_name_the_kind_and_its_parts() -> None:
    assert (
        dedupe_key(K.UNAPPROVED_ROOT_USAGE, ACCOUNT_ID, "2026-05-04")
        == f"unapproved_root_usage:{ACCOUNT_ID}:2026-05-04"
    )


def test_unapproved_actions_are_one_finding_per_utc_day() -> None:
    events = [memory.event(f"a{i}", T0 + i * M) for i in range(3)] + [
        memory.event("next", T0 + timedelta(days=1))
    ]

    found = wanted(events)

    assert sorted(found) == [
        dedupe_key(K.UNAPPROVED_ROOT_USAGE, ACCOUNT_ID, day) for day in ("2026-05-04", "2026-05-05")
    ]
    today = found[dedupe_key(K.UNAPPROVED_ROOT_USAGE, ACCOUNT_ID, "2026-05-04")]
    assert (today.severity, today.first_seen, today.last_seen) == (Severity.CRITICAL, T0, T0 + 2 * M)
    assert [event.event_id for event in today.events] == ["a0", "a1", "a2"]


def test_service_events_and_failed_sign_ins_are_not_root_usage() -> None:
    service = memory.event("svc", T0, is_service_event=True, kinds=(K.ROOT_MFA_CHANGED,))
    failed = memory.event("f", T0, name="ConsoleLogin", login_success=False, kinds=(K.ROOT_LOGIN_FAILED,))

    found = wanted([service, failed])

    assert [want.kind for want in found.values()] == [K.ROOT_LOGIN_FAILED]


def test_failed_sign_ins_are_grouped_per_hour_and_a_burst_is_high() -> None:
    def failure(event_id: str, when: datetime) -> RootEvent:
        return memory.event(
            event_id, when, name="ConsoleLogin", login_success=False, kinds=(K.ROOT_LOGIN_FAILED,)
        )

    quiet = [failure(f"q{i}", T0 + i * M) for i in range(FAILED_LOGIN_BURST - 1)]
    burst = [failure(f"b{i}", T0 + 60 * M + i * M) for i in range(FAILED_LOGIN_BURST)]

    found = wanted(quiet + burst)

    assert {key: (len(want.events), want.severity) for key, want in found.items()} == {
        dedupe_key(K.ROOT_LOGIN_FAILED, ACCOUNT_ID, "2026-05-04T10"): (
            FAILED_LOGIN_BURST - 1,
            Severity.MEDIUM,
        ),
        dedupe_key(K.ROOT_LOGIN_FAILED, ACCOUNT_ID, "2026-05-04T11"): (FAILED_LOGIN_BURST, Severity.HIGH),
    }


def test_a_per_event_kind_is_raised_even_inside_a_check_out() -> None:
    session = memory.session(checked_in_at=T0 + 30 * M, status=RequestStatus.RETURNED, minutes=60)
    nomfa = memory.event("nomfa", T0 + M, name="ConsoleLogin", kinds=(K.ROOT_LOGIN_WITHOUT_MFA,))

    found = wanted([nomfa], [session])

    [want] = found.values()
    assert (want.kind, want.severity, want.session) == (K.ROOT_LOGIN_WITHOUT_MFA, Severity.CRITICAL, session)
    assert list(found) == [dedupe_key(K.ROOT_LOGIN_WITHOUT_MFA, ACCOUNT_ID, "nomfa")]


def test_matched_actions_the_task_does_not_need_are_one_finding_per_session() -> None:
    session = memory.session(checked_in_at=T0 + 30 * M, status=RequestStatus.RETURNED, minutes=60)
    events = [
        memory.event("in", T0 + M, name="CloseAccount"),
        memory.event("out", T0 + 2 * M, name="CreateUser"),
    ]

    found = wanted(events, [session])

    want = found[dedupe_key(K.ROOT_ACTIVITY_OUTSIDE_SCOPE, session.code)]
    assert (want.severity, [event.event_id for event in want.events]) == (Severity.HIGH, ["out"])
    assert len(found) == 1


def test_a_check_out_past_due_is_overdue_while_out_and_after_a_late_return() -> None:
    still_out = memory.session(1, minutes=60)
    late = memory.session(2, minutes=60, checked_in_at=T0 + 75 * M, status=RequestStatus.RETURNED)
    on_time = memory.session(3, minutes=60, checked_in_at=T0 + 50 * M, status=RequestStatus.RETURNED)

    found = wanted([], [still_out, late, on_time], now=T0 + 2 * 60 * M)

    assert sorted(found) == sorted(dedupe_key(K.CHECKOUT_OVERDUE, s.code) for s in (still_out, late))
    assert found[dedupe_key(K.CHECKOUT_OVERDUE, late.code)].last_seen == T0 + 75 * M
    assert found[dedupe_key(K.CHECKOUT_OVERDUE, still_out.code)].severity == Severity.HIGH


def test_a_password_not_rotated_within_the_deadline_is_overdue_unless_there_is_none() -> None:
    returned = memory.session(checked_in_at=T0 + 30 * M, status=RequestStatus.RETURNED, minutes=60)
    physical = RootCredential(account=memory.account(), storage=CredentialStorage.PHYSICAL)
    centralised = RootCredential(account=memory.account(), storage=CredentialStorage.NONE)

    overdue = wanted([], [returned], credential=physical, now=T0 + 30 * M + timedelta(hours=25))
    not_yet = wanted([], [returned], credential=physical, now=T0 + 30 * M + timedelta(hours=23))
    nothing_to_rotate = wanted([], [returned], credential=centralised, now=T0 + timedelta(days=5))

    want = overdue[dedupe_key(K.ROTATION_OVERDUE, returned.code)]
    assert (want.severity, want.first_seen) == (Severity.MEDIUM, T0 + 30 * M + timedelta(hours=24))
    assert not_yet == nothing_to_rotate == {}


def test_an_emergency_session_without_approvals_is_a_finding_after_the_review_time() -> None:
    # Acknowledged in time by a second person (else emergency_unacknowledged, tested on its own).
    emergency = memory.session(
        emergency=True,
        checked_in_at=T0 + 30 * M,
        status=RequestStatus.RETURNED,
        emergency_acknowledged_at=T0 + 5 * M,
    )

    early = wanted([], [emergency], now=T0 + timedelta(hours=23))
    late = wanted([], [emergency], now=T0 + timedelta(hours=25))

    assert early == {}
    want = late[dedupe_key(K.EMERGENCY_ACCESS_UNREVIEWED, emergency.code)]
    assert (want.severity, want.first_seen) == (Severity.HIGH, T0 + timedelta(hours=24))


# --- Through the database ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_root_event_outside_every_window_raises_unapproved_root_usage(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    checkout(requester, account, approver, out_at=out, checked_in_at=out + 50 * M)
    before = out - 2 * timedelta(hours=1)

    ingest_records(
        tmp_path, [root_call(when=before, name="CreateUser", source="iam.amazonaws.com", event_id="x1")]
    )

    found = finding_of_kind(FindingKind.UNAPPROVED_ROOT_USAGE)
    assert found.severity == Severity.CRITICAL
    assert found.status == FindingStatus.OPEN
    assert (found.account, found.aws_account_id, found.session) == (account, ACCOUNT_ID, None)
    assert found.code.startswith(f"F-{before:%y%m%d}-")
    assert found.dedupe_key == f"unapproved_root_usage:{ACCOUNT_ID}:{before.date().isoformat()}"
    assert list(found.events.values_list("event_id", flat=True)) == ["x1"]
    assert found.first_seen == found.last_seen == before
    assert "payments-prod (123456789012)" in found.summary
    assert "CreateUser" in found.summary
    assert "198.51.100.7" in found.summary
    assert LedgerEntry.objects.filter(action="finding.raised", target_id=str(found.uuid)).count() == 1
    assert RootEvent.objects.get().session is None


@pytest.mark.django_db
def test_unapproved_events_of_one_day_are_one_finding(tmp_path: Path, account: Any) -> None:
    day = hours_ago(30).replace(hour=10, minute=0, second=0)
    records = [root_call(when=day + index * M, name=f"Action{index}") for index in range(4)]
    records.append(root_call(when=day + timedelta(days=1), name="NextDay"))

    ingest_records(tmp_path, records)

    findings = Finding.objects.filter(kind=FindingKind.UNAPPROVED_ROOT_USAGE).order_by("first_seen")
    assert [f.events.count() for f in findings] == [4, 1]
    assert "4 actions on" in findings[0].summary


@pytest.mark.django_db
def test_a_root_login_without_mfa_raises_its_finding_even_inside_a_check_out(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    session = checkout(requester, account, approver, out_at=out, checked_in_at=out + 50 * M)

    ingest_records(tmp_path, [root_login(when=out + 2 * M, mfa="No", event_id="nomfa")])

    found = finding_of_kind(FindingKind.ROOT_LOGIN_WITHOUT_MFA)
    assert found.severity == Severity.CRITICAL
    assert found.session == session
    assert f"during check-out {session.code}" in found.summary
    assert not Finding.objects.filter(kind=FindingKind.UNAPPROVED_ROOT_USAGE).exists()


@pytest.mark.django_db
def test_a_failed_root_sign_in_is_not_root_usage_and_failures_are_grouped_per_hour(
    tmp_path: Path, account: Any
) -> None:
    hour = hours_ago(30).replace(minute=0, second=0)
    quiet = [root_login(when=hour + index * M, success=False) for index in range(3)]
    burst = [root_login(when=hour + timedelta(hours=1) + index * M, success=False) for index in range(5)]

    ingest_records(tmp_path, quiet + burst)

    failed = list(Finding.objects.filter(kind=FindingKind.ROOT_LOGIN_FAILED).order_by("first_seen"))
    assert [(f.events.count(), f.severity) for f in failed] == [(3, Severity.MEDIUM), (5, Severity.HIGH)]
    assert "burst" in failed[1].summary
    assert not Finding.objects.filter(kind=FindingKind.UNAPPROVED_ROOT_USAGE).exists()


@pytest.mark.django_db
def test_actions_the_declared_task_does_not_need_are_outside_its_scope(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    session = checkout(requester, account, approver, out_at=out, checked_in_at=out + 50 * M)

    ingest_records(
        tmp_path,
        [
            root_login(when=out + M, event_id="in"),
            root_call(when=out + 3 * M, name="CreateUser", source="iam.amazonaws.com", event_id="out-1"),
            root_call(
                when=out + 4 * M, name="DeleteTrail", source="cloudtrail.amazonaws.com", event_id="out-2"
            ),
        ],
    )

    scope = finding_of_kind(FindingKind.ROOT_ACTIVITY_OUTSIDE_SCOPE)
    assert scope.severity == Severity.HIGH
    assert scope.session == session
    assert sorted(scope.events.values_list("event_id", flat=True)) == ["out-1", "out-2"]
    assert "CreateUser, DeleteTrail" in scope.summary
    assert dict(RootEvent.objects.values_list("event_id", "in_scope")) == {
        "in": True,
        "out-1": False,
        "out-2": False,
    }
    assert finding_of_kind(FindingKind.ROOT_CLOUDTRAIL_TAMPERING).severity == Severity.CRITICAL


@pytest.mark.django_db
def test_an_active_check_out_past_its_due_time_is_overdue(
    requester: Any, account: Any, approver: Any
) -> None:
    session = checkout(requester, account, approver, out_at=hours_ago(3), minutes=60)

    reconcile(account_ids=[ACCOUNT_ID])

    overdue = finding_of_kind(FindingKind.CHECKOUT_OVERDUE)
    assert (overdue.severity, overdue.session) == (Severity.HIGH, session)
    assert "still checked out" in overdue.summary


@pytest.mark.django_db
def test_a_check_out_returned_late_stays_a_finding(requester: Any, account: Any, approver: Any) -> None:
    out = hours_ago(3)
    checkout(requester, account, approver, out_at=out, minutes=60, checked_in_at=out + 75 * M)

    reconcile(account_ids=[ACCOUNT_ID])

    assert "returned 15 minutes late" in finding_of_kind(FindingKind.CHECKOUT_OVERDUE).summary


@pytest.mark.django_db
def test_a_password_not_confirmed_rotated_in_time_is_overdue(
    requester: Any, account: Any, approver: Any, settings: Any
) -> None:
    PhysicalCredentialFactory(account=account)
    out = hours_ago(30)
    session = checkout(requester, account, approver, out_at=out, minutes=60, checked_in_at=out + 30 * M)

    reconcile(account_ids=[ACCOUNT_ID])
    rotation = finding_of_kind(FindingKind.ROTATION_OVERDUE)
    assert (rotation.severity, rotation.session) == (Severity.MEDIUM, session)

    settings.PORTAL_ROTATION_OVERDUE_HOURS = 48
    Finding.objects.all().delete()
    reconcile(account_ids=[ACCOUNT_ID])
    assert not Finding.objects.filter(kind=FindingKind.ROTATION_OVERDUE).exists()


@pytest.mark.django_db
def test_an_emergency_session_without_approvals_after_the_review_time_is_a_finding(
    requester: Any, account: Any, settings: Any
) -> None:
    request = make_request(requester, account, emergency_grant=True, duration_minutes=120)
    session = lifecycle.access_request_self_authorise(
        request=request, requester=requester, reason="Production is down and no approver answers."
    )
    reconcile(account_ids=[ACCOUNT_ID])
    assert not Finding.objects.filter(kind=FindingKind.EMERGENCY_ACCESS_UNREVIEWED).exists()

    settings.PORTAL_EMERGENCY_REVIEW_HOURS = 0
    reconcile(account_ids=[ACCOUNT_ID])

    unreviewed = finding_of_kind(FindingKind.EMERGENCY_ACCESS_UNREVIEWED)
    assert (unreviewed.severity, unreviewed.session) == (Severity.HIGH, session)
    assert "had no approvals 0 hours later" in unreviewed.summary
