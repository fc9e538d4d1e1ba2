"""Check-out windows: which check-out holds a root event, with the grace periods. The first tests are
pure (rows built in memory, no database); the last ones go through ingestion and the lifecycle."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from audits.choices import FindingKind
from audits.models import Finding, RootEvent
from audits.reconcile import reconcile
from audits.reconcile.windows import ReconcileConfig, Windows, custody_end, in_scope, match_events, window_of
from audits.selectors import session_root_events
from audits.tests.findings_support import (
    ACCOUNT_ID,
    checkout,
    finding_of_kind,
    hours_ago,
    ingest_records,
    move_transition,
    root_call,
    root_login,
)
from audits.tests.reconcile import memory
from audits.tests.reconcile.memory import T0, M
from breakglass import custody, lifecycle
from breakglass.choices import RequestStatus
from breakglass.models import AccessRequest

CONFIG = ReconcileConfig(
    grace_before=5 * M,
    grace_after=30 * M,
    rotation_overdue=timedelta(hours=24),
    emergency_review=timedelta(hours=24),
    emergency_ack=15 * M,
)


def test_the_config_reads_the_settings(settings: Any) -> None:
    settings.PORTAL_RECONCILE_GRACE_BEFORE_MINUTES = 2
    settings.PORTAL_RECONCILE_GRACE_AFTER_MINUTES = 45
    settings.PORTAL_ROTATION_OVERDUE_HOURS = 12
    settings.PORTAL_EMERGENCY_REVIEW_HOURS = 0
    settings.PORTAL_EMERGENCY_ACK_MINUTES = 7

    assert ReconcileConfig.from_settings() == ReconcileConfig(
        grace_before=2 * M,
        grace_after=45 * M,
        rotation_overdue=timedelta(hours=12),
        emergency_review=timedelta(0),
        emergency_ack=7 * M,
    )


def test_a_returned_check_out_holds_from_check_out_minus_grace_to_check_in_plus_grace() -> None:
    window = window_of(memory.session(checked_in_at=T0 + 50 * M, status=RequestStatus.RETURNED), CONFIG)

    assert (window.start, window.end) == (T0 - 5 * M, T0 + 80 * M)
    assert (window.held_from, window.held_until) == (T0, T0 + 50 * M)


def test_an_active_check_out_has_an_open_window() -> None:
    window = window_of(memory.session(), CONFIG)

    assert window.end is None
    assert window.held_until is None


def test_custody_of_a_revoked_session_ends_at_the_revocation_even_if_returned_later() -> None:
    revoked = memory.session(status=RequestStatus.REVOKED, checked_in_at=T0 + 90 * M)
    revoked.revoked_at = T0 + 20 * M  # type: ignore[attr-defined]  # annotated by the loader

    assert custody_end(revoked) == T0 + 20 * M


def test_a_session_neither_active_nor_returned_is_held_until_its_due_time() -> None:
    assert custody_end(memory.session(status=RequestStatus.CLOSED, minutes=60)) == T0 + 60 * M


def test_an_event_between_two_windows_goes_to_the_session_that_held_the_credential() -> None:
    first = memory.session(1, checked_in_at=T0 + 30 * M, status=RequestStatus.RETURNED)
    second = memory.session(2, out_at=T0 + 40 * M, checked_in_at=T0 + 90 * M, status=RequestStatus.RETURNED)
    windows = Windows([window_of(first, CONFIG), window_of(second, CONFIG)])

    in_first_grace_and_second_custody = windows.match(T0 + 45 * M)
    in_first_grace_only = windows.match(T0 + 33 * M)

    assert in_first_grace_and_second_custody is not None
    assert in_first_grace_and_second_custody.session is second
    assert in_first_grace_only is not None
    assert in_first_grace_only.session is first
    assert windows.match(T0 + 121 * M) is None
    assert windows.match(T0 - 6 * M) is None


def test_scope_is_the_declared_tasks_expected_actions_and_unknown_tasks_are_not_judged() -> None:
    assert in_scope(memory.session(), "CloseAccount") is True
    assert in_scope(memory.session(), "CreateUser") is False
    assert in_scope(memory.session(root_task="from_a_later_version"), "CloseAccount") is None


def test_matching_sets_session_and_scope_and_returns_only_the_events_that_changed() -> None:
    session = memory.session(checked_in_at=T0 + 30 * M, status=RequestStatus.RETURNED)
    windows = Windows([window_of(session, CONFIG)])
    inside = memory.event("inside", T0 + M, name="CloseAccount")
    outside = memory.event("outside", T0 + 2 * M, name="CreateUser")
    later = memory.event("later", T0 + 3 * 60 * M)
    service = memory.event("service", T0 + 2 * M, is_service_event=True)
    now = T0 + 4 * 60 * M

    dirty = match_events([inside, outside, later, service], windows, now=now)

    assert dirty == [inside, outside]
    assert (inside.session, inside.in_scope, inside.updated_at) == (session, True, now)
    assert (outside.session, outside.in_scope) == (session, False)
    assert (later.session_id, service.session_id) == (None, None)
    assert match_events([inside, outside, later, service], windows, now=now) == []


def test_an_event_a_changed_window_no_longer_covers_is_unmatched() -> None:
    session = memory.session(checked_in_at=T0 + 30 * M, status=RequestStatus.RETURNED)
    late = memory.event("late", T0 + 70 * M)
    late.session = session
    late.in_scope = True

    dirty = match_events([late], Windows([window_of(session, CONFIG)]), now=T0 + 2 * 60 * M)

    assert dirty == [late]
    assert (late.session_id, late.in_scope) == (None, None)


# --- Through the database ------------------------------------------------------------------------


@pytest.mark.django_db
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


@pytest.mark.django_db
def test_a_late_event_after_check_in_inside_the_grace_period_is_matched(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    session = checkout(requester, account, approver, out_at=out, checked_in_at=out + 30 * M)

    ingest_records(tmp_path, [root_login(when=out + 55 * M, event_id="late")])

    assert RootEvent.objects.get().session == session
    assert not Finding.objects.exists()


@pytest.mark.django_db
def test_an_event_after_the_grace_period_is_not_matched(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    checkout(requester, account, approver, out_at=out, checked_in_at=out + 30 * M)

    ingest_records(tmp_path, [root_login(when=out + 61 * M, event_id="too-late")])

    assert RootEvent.objects.get().session is None
    assert finding_of_kind(FindingKind.UNAPPROVED_ROOT_USAGE).events.get().event_id == "too-late"


@pytest.mark.django_db
def test_the_window_opens_a_little_before_the_check_out(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    session = checkout(requester, account, approver, out_at=out, checked_in_at=out + 30 * M)

    ingest_records(tmp_path, [root_login(when=out - 4 * M, event_id="early"), root_login(when=out - 6 * M)])

    assert RootEvent.objects.get(event_id="early").session == session
    assert finding_of_kind(FindingKind.UNAPPROVED_ROOT_USAGE).events.count() == 1


@pytest.mark.django_db
def test_the_grace_periods_come_from_the_settings(
    tmp_path: Path, requester: Any, account: Any, approver: Any, settings: Any
) -> None:
    settings.PORTAL_RECONCILE_GRACE_AFTER_MINUTES = 120
    out = hours_ago(5)
    session = checkout(requester, account, approver, out_at=out, checked_in_at=out + 30 * M)

    ingest_records(tmp_path, [root_login(when=out + 140 * M)])

    assert RootEvent.objects.get().session == session


@pytest.mark.django_db
def test_an_event_in_the_grace_of_one_session_and_the_custody_of_the_next_goes_to_the_next(
    tmp_path: Path, requester: Any, account: Any, approver: Any, custodian: Any
) -> None:
    out = hours_ago(5)
    first = checkout(requester, account, approver, out_at=out, checked_in_at=out + 30 * M)
    second = checkout(requester, account, approver, out_at=out + 40 * M, checked_in_at=out + 90 * M)

    ingest_records(tmp_path, [root_login(when=out + 45 * M, event_id="e")])

    assert RootEvent.objects.get().session == second
    assert first.root_events.count() == 0


@pytest.mark.django_db
def test_service_events_are_kept_but_never_matched_nor_raised(tmp_path: Path, account: Any) -> None:
    ingest_records(
        tmp_path, [root_call(when=hours_ago(2), event_type="AwsServiceEvent", name="SharedSnapshot")]
    )

    event = RootEvent.objects.get()
    assert event.is_service_event
    assert event.session is None
    assert not Finding.objects.exists()


@pytest.mark.django_db
def test_checking_in_before_an_event_makes_it_unapproved(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    session = checkout(requester, account, approver, out_at=out, minutes=600)
    ingest_records(tmp_path, [root_call(when=out + 90 * M, name="CloseAccount", event_id="later")])
    assert RootEvent.objects.get().session == session

    custody.access_request_check_in(request=session, actor=requester, work_done="Closed the account.")
    AccessRequest.objects.filter(pk=session.pk).update(checked_in_at=out + 20 * M)
    changed = reconcile(account_ids=[ACCOUNT_ID])

    assert changed == 1
    assert RootEvent.objects.get().session is None
    assert finding_of_kind(FindingKind.UNAPPROVED_ROOT_USAGE).events.get().event_id == "later"


@pytest.mark.django_db
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
    assert finding_of_kind(FindingKind.UNAPPROVED_ROOT_USAGE).events.get().event_id == "after"
