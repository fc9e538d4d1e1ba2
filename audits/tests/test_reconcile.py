"""Reconciliation: root events matched to check-out windows, findings raised, updated, resolved and
alerted exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audits.choices import FindingKind, FindingStatus, Severity
from audits.models import Finding, RootEvent
from audits.reconcile import reconcile
from audits.selectors import session_root_events
from audits.tests.findings_support import (
    ACCOUNT_ID,
    UNKNOWN_ACCOUNT_ID,
    checkout,
    hours_ago,
    ingest_records,
    make_account,
    move_transition,
    root_call,
    root_login,
)
from breakglass import lifecycle
from breakglass.models import AccessRequest, Notification, NotificationChannel
from breakglass.notifications.messages import ALERT_EVENT
from breakglass.tests.factories import AwsAccountFactory, PhysicalCredentialFactory
from breakglass.tests.lifecycle_helpers import active, make_request
from ledger.models import LedgerEntry
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db

M = timedelta(minutes=1)


@pytest.fixture
def account(approver: Any, custodian: Any) -> Any:
    return make_account(approver, custodian)


@pytest.fixture
def eager_celery() -> Iterator[None]:
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


def finding(kind: str) -> Finding:
    return Finding.objects.get(kind=kind)


# --- Windows -------------------------------------------------------------------------------------


def test_a_root_event_inside_a_check_out_window_is_matched_and_shown_as_the_sessions_event(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    session = checkout(requester, account, approver, out_at=out, checked_in_at=out + 50 * M)

    run = ingest_records(
        tmp_path,
        [
            root_login(when=out + M, event_id="login"),
            root_call(
                when=out + 5 * M, name="CloseAccount", source="account.amazonaws.com", event_id="close"
            ),
        ],
    )

    assert run.findings_raised == 0
    assert not Finding.objects.exists()
    events = list(session_root_events(user=requester, request=session))
    assert [event.event_id for event in events] == ["login", "close"]
    assert all(event.in_scope for event in events)


def test_a_root_event_outside_every_window_raises_unapproved_root_usage(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    checkout(requester, account, approver, out_at=out, checked_in_at=out + 50 * M)
    before = out - 2 * timedelta(hours=1)

    ingest_records(
        tmp_path, [root_call(when=before, name="CreateUser", source="iam.amazonaws.com", event_id="x1")]
    )

    found = finding(FindingKind.UNAPPROVED_ROOT_USAGE)
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


def test_unapproved_events_of_one_day_are_one_finding(tmp_path: Path, account: Any) -> None:
    day = hours_ago(30).replace(hour=10, minute=0, second=0)
    records = [root_call(when=day + index * M, name=f"Action{index}") for index in range(4)]
    records.append(root_call(when=day + timedelta(days=1), name="NextDay"))

    ingest_records(tmp_path, records)

    findings = Finding.objects.filter(kind=FindingKind.UNAPPROVED_ROOT_USAGE).order_by("first_seen")
    assert [f.events.count() for f in findings] == [4, 1]
    assert "4 actions on" in findings[0].summary


def test_a_root_login_without_mfa_raises_its_finding_even_inside_a_check_out(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    session = checkout(requester, account, approver, out_at=out, checked_in_at=out + 50 * M)

    ingest_records(tmp_path, [root_login(when=out + 2 * M, mfa="No", event_id="nomfa")])

    found = finding(FindingKind.ROOT_LOGIN_WITHOUT_MFA)
    assert found.severity == Severity.CRITICAL
    assert found.session == session
    assert f"during check-out {session.code}" in found.summary
    assert not Finding.objects.filter(kind=FindingKind.UNAPPROVED_ROOT_USAGE).exists()


def test_a_late_event_after_check_in_inside_the_grace_period_is_matched(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    session = checkout(requester, account, approver, out_at=out, checked_in_at=out + 30 * M)

    ingest_records(tmp_path, [root_login(when=out + 55 * M, event_id="late")])

    assert RootEvent.objects.get().session == session
    assert not Finding.objects.exists()


def test_an_event_after_the_grace_period_is_not_matched(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    checkout(requester, account, approver, out_at=out, checked_in_at=out + 30 * M)

    ingest_records(tmp_path, [root_login(when=out + 61 * M, event_id="too-late")])

    assert RootEvent.objects.get().session is None
    assert finding(FindingKind.UNAPPROVED_ROOT_USAGE).events.get().event_id == "too-late"


def test_the_window_opens_a_little_before_the_check_out(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    session = checkout(requester, account, approver, out_at=out, checked_in_at=out + 30 * M)

    ingest_records(tmp_path, [root_login(when=out - 4 * M, event_id="early"), root_login(when=out - 6 * M)])

    assert RootEvent.objects.get(event_id="early").session == session
    assert finding(FindingKind.UNAPPROVED_ROOT_USAGE).events.count() == 1


def test_the_grace_periods_come_from_the_settings(
    tmp_path: Path, requester: Any, account: Any, approver: Any, settings: Any
) -> None:
    settings.PORTAL_RECONCILE_GRACE_AFTER_MINUTES = 120
    out = hours_ago(5)
    session = checkout(requester, account, approver, out_at=out, checked_in_at=out + 30 * M)

    ingest_records(tmp_path, [root_login(when=out + 140 * M)])

    assert RootEvent.objects.get().session == session


def test_an_event_in_the_grace_of_one_session_and_the_custody_of_the_next_goes_to_the_next(
    tmp_path: Path, requester: Any, account: Any, approver: Any, custodian: Any
) -> None:
    out = hours_ago(5)
    first = checkout(requester, account, approver, out_at=out, checked_in_at=out + 30 * M)
    second = checkout(requester, account, approver, out_at=out + 40 * M, checked_in_at=out + 90 * M)

    ingest_records(tmp_path, [root_login(when=out + 45 * M, event_id="e")])

    assert RootEvent.objects.get().session == second
    assert first.root_events.count() == 0


def test_service_events_are_kept_but_never_matched_nor_raised(tmp_path: Path, account: Any) -> None:
    ingest_records(
        tmp_path, [root_call(when=hours_ago(2), event_type="AwsServiceEvent", name="SharedSnapshot")]
    )

    event = RootEvent.objects.get()
    assert event.is_service_event
    assert event.session is None
    assert not Finding.objects.exists()


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

    scope = finding(FindingKind.ROOT_ACTIVITY_OUTSIDE_SCOPE)
    assert scope.severity == Severity.HIGH
    assert scope.session == session
    assert sorted(scope.events.values_list("event_id", flat=True)) == ["out-1", "out-2"]
    assert "CreateUser, DeleteTrail" in scope.summary
    assert dict(RootEvent.objects.values_list("event_id", "in_scope")) == {
        "in": True,
        "out-1": False,
        "out-2": False,
    }
    assert finding(FindingKind.ROOT_CLOUDTRAIL_TAMPERING).severity == Severity.CRITICAL


# --- Window changes ---------------------------------------------------------------------------------


def test_checking_in_before_an_event_makes_it_unapproved(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    session = checkout(requester, account, approver, out_at=out, minutes=600)
    ingest_records(tmp_path, [root_call(when=out + 90 * M, name="CloseAccount", event_id="later")])
    assert RootEvent.objects.get().session == session

    lifecycle.access_request_check_in(request=session, actor=requester, work_done="Closed the account.")
    AccessRequest.objects.filter(pk=session.pk).update(checked_in_at=out + 20 * M)
    changed = reconcile(account_ids=[ACCOUNT_ID])

    assert changed == 1
    assert RootEvent.objects.get().session is None
    assert finding(FindingKind.UNAPPROVED_ROOT_USAGE).events.get().event_id == "later"


def test_revoking_a_session_closes_its_window_at_the_revocation(
    tmp_path: Path, requester: Any, account: Any, approver: Any, administrator: Any
) -> None:
    out = hours_ago(4)
    session = checkout(requester, account, approver, out_at=out, minutes=600)
    lifecycle.access_request_revoke(request=session, administrator=administrator, reason="Left the company.")
    move_transition(session, "revoked", out + 30 * M)

    ingest_records(
        tmp_path,
        [root_call(when=out + 20 * M, event_id="before"), root_call(when=out + 90 * M, event_id="after")],
    )

    assert RootEvent.objects.get(event_id="before").session == session
    assert RootEvent.objects.get(event_id="after").session is None
    assert finding(FindingKind.UNAPPROVED_ROOT_USAGE).events.get().event_id == "after"


def test_a_check_out_that_comes_to_cover_an_event_resolves_its_finding_through_the_transition_signal(
    tmp_path: Path,
    requester: Any,
    account: Any,
    approver: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # The holder started a minute before the check-out was recorded (inside the grace before).
    ingest_records(tmp_path, [root_login(when=timezone.now() - M, event_id="early-start")])
    unapproved = finding(FindingKind.UNAPPROVED_ROOT_USAGE)

    with django_capture_on_commit_callbacks(execute=True):
        session = active(make_request(requester, account), approver)

    unapproved.refresh_from_db()
    assert unapproved.status == FindingStatus.RESOLVED
    assert (
        unapproved.triage_note
        == f"Resolved automatically: matched to session {session.code} on re-evaluation."
    )
    assert unapproved.triaged_by is None
    entry = LedgerEntry.objects.get(action="finding.resolved")
    assert entry.data["sessions"] == [session.code]
    assert Finding.objects.filter(pk=unapproved.pk).exists()  # never deleted
    assert unapproved.events.get().event_id == "early-start"  # kept as evidence


def test_a_finding_resolved_automatically_is_reopened_when_it_applies_again(
    tmp_path: Path, requester: Any, account: Any, approver: Any, settings: Any
) -> None:
    out = hours_ago(3)
    checkout(requester, account, approver, out_at=out, checked_in_at=out + 10 * M)
    settings.PORTAL_RECONCILE_GRACE_AFTER_MINUTES = 10
    ingest_records(tmp_path, [root_call(when=out + 25 * M)])
    settings.PORTAL_RECONCILE_GRACE_AFTER_MINUTES = 30
    reconcile(account_ids=[ACCOUNT_ID])
    assert finding(FindingKind.UNAPPROVED_ROOT_USAGE).status == FindingStatus.RESOLVED

    settings.PORTAL_RECONCILE_GRACE_AFTER_MINUTES = 10
    reconcile(account_ids=[ACCOUNT_ID])

    reopened = finding(FindingKind.UNAPPROVED_ROOT_USAGE)
    assert reopened.status == FindingStatus.OPEN
    assert LedgerEntry.objects.filter(action="finding.reopened").count() == 1


# --- Unknown accounts and alerts -----------------------------------------------------------------


def test_an_unknown_account_raises_a_finding_without_account_and_alerts_the_global_channel(
    tmp_path: Path, account: Any
) -> None:
    security = NotificationChannel.objects.create(kind="email", name="Security", target="sec@example.org")
    NotificationChannel.objects.create(
        account=account, kind="email", name="Payments", target="pay@example.org"
    )

    ingest_records(tmp_path, [root_login(when=hours_ago(1), account=UNKNOWN_ACCOUNT_ID)])

    found = finding(FindingKind.UNAPPROVED_ROOT_USAGE)
    assert found.account is None
    assert found.aws_account_id == UNKNOWN_ACCOUNT_ID
    assert "not in the portal's inventory" in found.summary
    assert found.alerted_at is not None
    alerts = list(Notification.objects.filter(event=ALERT_EVENT))
    assert [(n.channel, n.recipient, n.request) for n in alerts] == [(security, None, None)]
    assert found.code in alerts[0].subject
    assert found.summary in alerts[0].body


def test_a_critical_finding_alerts_the_accounts_people_and_channels_once(
    tmp_path: Path, account: Any, approver: Any, custodian: Any
) -> None:
    channel = NotificationChannel.objects.create(
        account=account, kind="webhook", name="Payments hook", target="https://hooks.example.org/x"
    )
    NotificationChannel.objects.create(kind="email", name="Security", target="sec@example.org")
    when = hours_ago(3)

    ingest_records(tmp_path, [root_call(when=when)])
    reconcile()
    ingest_records(tmp_path, [root_call(when=when + M)])  # same day: the same finding grows

    alerts = Notification.objects.filter(event=ALERT_EVENT)
    assert sorted((n.recipient_id or 0, n.channel_id or 0) for n in alerts) == sorted(
        [(approver.pk, 0), (custodian.pk, 0), (0, channel.pk)]
    )
    webhook = alerts.get(channel=channel)
    assert '"event": "finding.alert"' in webhook.body
    assert finding(FindingKind.UNAPPROVED_ROOT_USAGE).events.count() == 2


def test_medium_and_high_findings_do_not_alert(tmp_path: Path, account: Any) -> None:
    ingest_records(tmp_path, [root_login(when=hours_ago(2), success=False)])

    assert Finding.objects.get().severity == Severity.MEDIUM
    assert not Notification.objects.filter(event=ALERT_EVENT).exists()


def test_an_account_added_to_the_inventory_later_is_set_on_its_findings(tmp_path: Path) -> None:
    ingest_records(tmp_path, [root_call(when=hours_ago(2), account="555566667777")])
    added = AwsAccountFactory(account_id="555566667777", name="forgotten-sandbox")

    reconcile(account_ids=["555566667777"])

    found = Finding.objects.get()
    assert found.account == added
    assert "forgotten-sandbox (555566667777)" in found.summary


# --- Session deadlines ---------------------------------------------------------------------------


def test_an_active_check_out_past_its_due_time_is_overdue(
    requester: Any, account: Any, approver: Any
) -> None:
    session = checkout(requester, account, approver, out_at=hours_ago(3), minutes=60)

    reconcile(account_ids=[ACCOUNT_ID])

    overdue = finding(FindingKind.CHECKOUT_OVERDUE)
    assert (overdue.severity, overdue.session) == (Severity.HIGH, session)
    assert "still checked out" in overdue.summary


def test_a_check_out_returned_late_stays_a_finding(requester: Any, account: Any, approver: Any) -> None:
    out = hours_ago(3)
    checkout(requester, account, approver, out_at=out, minutes=60, checked_in_at=out + 75 * M)

    reconcile(account_ids=[ACCOUNT_ID])

    assert "returned 15 minutes late" in finding(FindingKind.CHECKOUT_OVERDUE).summary


def test_a_password_not_confirmed_rotated_in_time_is_overdue(
    requester: Any, account: Any, approver: Any, settings: Any
) -> None:
    PhysicalCredentialFactory(account=account)
    out = hours_ago(30)
    session = checkout(requester, account, approver, out_at=out, minutes=60, checked_in_at=out + 30 * M)

    reconcile(account_ids=[ACCOUNT_ID])
    rotation = finding(FindingKind.ROTATION_OVERDUE)
    assert (rotation.severity, rotation.session) == (Severity.MEDIUM, session)

    settings.PORTAL_ROTATION_OVERDUE_HOURS = 48
    Finding.objects.all().delete()
    reconcile(account_ids=[ACCOUNT_ID])
    assert not Finding.objects.filter(kind=FindingKind.ROTATION_OVERDUE).exists()


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

    unreviewed = finding(FindingKind.EMERGENCY_ACCESS_UNREVIEWED)
    assert (unreviewed.severity, unreviewed.session) == (Severity.HIGH, session)
    assert "had no approvals 0 hours later" in unreviewed.summary


# --- Idempotency and cost ----------------------------------------------------------------------------


def test_reconciling_again_changes_nothing(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    checkout(requester, account, approver, out_at=out, minutes=30, checked_in_at=out + 50 * M)
    ingest_records(
        tmp_path,
        [
            root_login(when=out + M, mfa="No"),
            root_call(when=out + 2 * M, name="CreateUser"),
            root_call(when=out - timedelta(hours=1)),
            root_login(when=out - timedelta(hours=1), success=False),
        ],
    )
    findings = list(Finding.objects.order_by("pk").values())
    entries = LedgerEntry.objects.count()
    notifications = Notification.objects.count()

    assert reconcile() == 0
    assert reconcile(account_ids=[ACCOUNT_ID]) == 0

    assert list(Finding.objects.order_by("pk").values()) == findings
    assert LedgerEntry.objects.count() == entries
    assert Notification.objects.count() == notifications


def _bulk_events(account_id: str, count: int, start: Any) -> None:
    RootEvent.objects.bulk_create(
        [
            RootEvent(
                event_id=f"{account_id}-{index}",
                aws_account_id=account_id,
                event_time=start + index * timedelta(seconds=20),
                event_name="ConsoleLogin" if index % 2 else "CreateUser",
                event_source="iam.amazonaws.com",
                source_ip="198.51.100.7",
                raw={},
            )
            for index in range(count)
        ]
    )


def test_reconcile_costs_the_same_number_of_queries_for_10_events_as_for_100(
    requester: Any, approver: Any, custodian: Any
) -> None:
    counts: dict[int, int] = {}
    for size, account_id in ((10, "111111111111"), (100, "222222222222")):
        account = make_account(approver, custodian, account_id=account_id)
        out = hours_ago(3)
        checkout(requester, account, approver, out_at=out, checked_in_at=out + 30 * M)
        # Half inside the check-out (matched, partly out of scope), half long after (unapproved).
        _bulk_events(account_id, size // 2, out + M)
        RootEvent.objects.bulk_create(
            [
                RootEvent(
                    event_id=f"late-{account_id}-{index}",
                    aws_account_id=account_id,
                    event_time=out + timedelta(hours=2) + index * timedelta(seconds=1),
                    event_name="ListBuckets",
                    event_source="s3.amazonaws.com",
                    raw={},
                )
                for index in range(size - size // 2)
            ]
        )
        with CaptureQueriesContext(connection) as queries:
            reconcile(account_ids=[account_id])
        counts[size] = len(queries.captured_queries)
        kinds = set(Finding.objects.filter(aws_account_id=account_id).values_list("kind", flat=True))
        assert kinds == {FindingKind.UNAPPROVED_ROOT_USAGE, FindingKind.ROOT_ACTIVITY_OUTSIDE_SCOPE}
        assert RootEvent.objects.filter(aws_account_id=account_id, session__isnull=False).count() == size // 2
    assert counts[10] == counts[100]
