"""Drills through the services: scheduled and announced by an administrator, performed through the
normal lifecycle by a custodian, observed, and timed up to the delivered alert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from breakglass import custody, drills, lifecycle
from breakglass.choices import DeliveryStatus, DrillResult, RequestStatus
from breakglass.drill_models import delay_text
from breakglass.drill_selectors import account_drill_status, drill_status
from breakglass.models import Drill, Notification
from breakglass.notifications import delivery
from breakglass.notifications.messages import DRILL_OBSERVED_EVENT, DRILL_SCHEDULED_EVENT
from breakglass.tests.factories import GrantFactory
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def _actions() -> list[str]:
    return list(LedgerEntry.objects.order_by("pk").values_list("action", flat=True))


def _run(drill: Drill) -> Drill:
    """The performer checks out and checks in, through the normal services."""
    request = custody.access_request_check_out(request=drill.request, requester=drill.request.requester)
    custody.access_request_check_in(
        request=request, actor=request.requester, work_done="Signed in as root and out again."
    )
    drill.refresh_from_db()
    return drill


# --- Scheduling --------------------------------------------------------------------------------


def test_scheduling_approves_a_drill_request_for_the_custodian_and_announces_it(
    drill: Drill, administrator: Any, custodian: Any, approver: Any, second_custodian: Any
) -> None:
    request = drill.request
    assert request.is_drill
    assert request.root_task == "drill"
    assert request.requester == custodian
    assert request.status == RequestStatus.APPROVED
    assert request.approved_at is not None
    assert drill.scheduled_by == administrator
    assert [(t.from_status, t.to_status) for t in request.transitions.all()] == [
        ("", "pending"),
        ("pending", "approved"),
    ]
    actions = _actions()
    assert actions.index("access_request.created") < actions.index("access_request.approved")
    assert "drill.scheduled" in actions
    told = set(
        Notification.objects.filter(event=DRILL_SCHEDULED_EVENT, recipient__isnull=False).values_list(
            "recipient__username", flat=True
        )
    )
    # Everyone concerned hears of the exercise in advance, the administrator included.
    assert {approver.username, custodian.username, second_custodian.username, administrator.username} <= told


def test_only_an_administrator_schedules_a_drill(approver: Any, custodian: Any, drilled_account: Any) -> None:
    with pytest.raises(ValidationError, match="Only an administrator"):
        drills.drill_schedule(
            administrator=approver,
            account=drilled_account,
            performer=custodian,
            starts_at=timezone.now(),
            duration_minutes=30,
        )
    assert not Drill.objects.exists()


def test_the_performer_must_be_a_custodian_and_not_the_scheduler(
    administrator: Any, approver: Any, drilled_account: Any
) -> None:
    with pytest.raises(ValidationError, match="must be a custodian"):
        drills.drill_schedule(
            administrator=administrator,
            account=drilled_account,
            performer=approver,
            starts_at=timezone.now(),
            duration_minutes=30,
        )
    drilled_account.custodians.add(administrator)
    with pytest.raises(ValidationError, match="perform yourself"):
        drills.drill_schedule(
            administrator=administrator,
            account=drilled_account,
            performer=administrator,
            starts_at=timezone.now(),
            duration_minutes=30,
        )


def test_a_drill_window_respects_the_account_limit(
    administrator: Any, custodian: Any, drilled_account: Any
) -> None:
    with pytest.raises(ValidationError) as refused:
        drills.drill_schedule(
            administrator=administrator,
            account=drilled_account,
            performer=custodian,
            starts_at=timezone.now() - timedelta(hours=2),
            duration_minutes=drilled_account.max_session_minutes + 1,
        )
    assert set(refused.value.message_dict) == {"starts_at", "duration_minutes"}


def test_nobody_files_a_drill_task_as_an_ordinary_request(requester: Any, account: Any) -> None:
    GrantFactory(user=requester, account=account)
    with pytest.raises(ValidationError) as refused:
        lifecycle.access_request_create(
            requester=requester,
            account=account,
            root_task="drill",
            justification="Pretending to be a drill to skip the approvals.",
            ticket_reference="CHG-1",
            starts_at=timezone.now(),
            duration_minutes=30,
        )
    assert "root_task" in refused.value.message_dict


# --- The normal lifecycle ----------------------------------------------------------------------


def test_the_custodian_checks_out_without_a_grant_and_checks_in(drill: Drill) -> None:
    drill = _run(drill)
    assert drill.request.status == RequestStatus.RETURNED
    assert drill.request.checked_out_at is not None
    assert drill.request.checked_in_at is not None
    assert drill.state == "Waiting for the root sign-in to arrive from CloudTrail"


def test_a_performer_taken_off_the_custodians_can_no_longer_check_out(
    drill: Drill, custodian: Any, drilled_account: Any
) -> None:
    drilled_account.custodians.remove(custodian)
    with pytest.raises(ValidationError, match="no longer a custodian"):
        custody.access_request_check_out(request=drill.request, requester=custodian)


def test_another_custodian_hands_over_the_devices(
    drill: Drill, custodian: Any, second_custodian: Any
) -> None:
    request = custody.access_request_check_out(request=drill.request, requester=custodian)
    with pytest.raises(ValidationError, match="themselves"):
        custody.access_request_hand_over(request=request, custodian=custodian, devices=[])


# --- Observation and the alert -----------------------------------------------------------------


def _observe(drill: Drill, *, delay: timedelta = timedelta(minutes=4)) -> Drill | None:
    # In the past, so the alert that follows is later than the ingestion, as in life.
    signed_in = timezone.now() - timedelta(minutes=10)
    return drills.drill_observe(
        request_id=drill.request_id,
        event_id="evt-1",
        signed_in_at=signed_in,
        ingested_at=signed_in + delay,
    )


def test_an_observed_sign_in_is_timed_and_alerted_the_way_alerts_go(
    drill: Drill, approver: Any, custodian: Any, second_custodian: Any
) -> None:
    drill = _run(drill)
    observed = _observe(drill)
    assert observed is not None
    assert observed.ingest_delay == timedelta(minutes=4)
    assert observed.ingest_delay_text == "4 min 0 s"
    alerts = Notification.objects.filter(event=DRILL_OBSERVED_EVENT)
    # The account's approvers and custodians, as for a critical finding; tied to the drill's session.
    assert set(alerts.values_list("recipient__username", flat=True)) == {
        approver.username,
        custodian.username,
        second_custodian.username,
    }
    assert set(alerts.values_list("request_id", flat=True)) == {drill.request_id}
    assert "not real use" in alerts.first().body  # type: ignore[union-attr]
    assert "drill.observed" in _actions()
    # Reconciliation runs again and again: the first observation stands.
    assert _observe(drill, delay=timedelta(minutes=9)) is None
    assert alerts.count() == 3


def test_the_first_delivered_alert_closes_the_drill_as_passed(drill: Drill, mailoutbox: list[Any]) -> None:
    drill = _run(drill)
    _observe(drill)
    first, second, _ = Notification.objects.filter(event=DRILL_OBSERVED_EVENT).order_by("pk")
    assert delivery.notification_deliver(notification_id=first.pk) == "sent"
    drill.refresh_from_db()
    first.refresh_from_db()
    assert drill.result == DrillResult.PASSED
    assert drill.passed
    assert drill.alert_delivered_at == first.sent_at
    assert drill.ingested_at is not None
    assert drill.alert_delay == first.sent_at - drill.ingested_at  # type: ignore[operator]
    assert delivery.notification_deliver(notification_id=second.pk) == "sent"
    drill.refresh_from_db()
    assert drill.alert_delivered_at == first.sent_at
    assert _actions().count("drill.alert_delivered") == 1


def test_a_drill_whose_every_alert_fails_failed(drill: Drill) -> None:
    drill = _run(drill)
    _observe(drill)
    notifications = list(Notification.objects.filter(event=DRILL_OBSERVED_EVENT).order_by("pk"))
    for notification in notifications:
        Notification.objects.filter(pk=notification.pk).update(status=DeliveryStatus.FAILED)
        drill_after = drills.drill_alert_failed(request_id=drill.request_id)
    assert drill_after is not None
    drill.refresh_from_db()
    assert drill.result == DrillResult.ALERT_FAILED
    assert drill.failed
    assert "drill.alert_failed" in _actions()


def test_one_failed_copy_leaves_the_others_to_deliver(drill: Drill) -> None:
    drill = _run(drill)
    _observe(drill)
    first = Notification.objects.filter(event=DRILL_OBSERVED_EVENT).order_by("pk").first()
    assert first is not None
    Notification.objects.filter(pk=first.pk).update(status=DeliveryStatus.FAILED)
    assert drills.drill_alert_failed(request_id=drill.request_id) is None
    drill.refresh_from_db()
    assert drill.result == ""


def test_a_missing_event_marks_the_drill_failed_once(drill: Drill) -> None:
    drill = _run(drill)
    drills.drill_mark_event_missing(drill=drill, finding_code="F-1")
    drill.refresh_from_db()
    assert (drill.result, drill.finding_code) == (DrillResult.EVENT_MISSING, "F-1")
    # A late sign-in is still measured, but the drill stays failed.
    _observe(drill)
    for notification in Notification.objects.filter(event=DRILL_OBSERVED_EVENT):
        delivery.notification_deliver(notification_id=notification.pk)
    drill.refresh_from_db()
    assert drill.result == DrillResult.EVENT_MISSING
    assert drill.alert_delay is not None


# --- Due and overdue ---------------------------------------------------------------------------


def test_delays_read_as_people_say_them() -> None:
    assert [delay_text(timedelta(seconds=s)) for s in (0.42, 42, 252, 3780)] == [
        "0.4 s",
        "42 s",
        "4 min 12 s",
        "1 h 3 min",
    ]
    assert delay_text(None) == "-"


def test_an_account_never_drilled_is_due_an_interval_after_it_was_added(account: Any, settings: Any) -> None:
    settings.PORTAL_DRILL_INTERVAL_DAYS = 90
    status = drill_status(account, [], now=account.created_at + timedelta(days=80))
    assert (status.state, status.last, status.upcoming) == ("due soon", None, None)
    assert status.due_at == account.created_at + timedelta(days=90)
    assert drill_status(account, [], now=account.created_at + timedelta(days=91)).overdue
    assert drill_status(account, [], now=account.created_at + timedelta(days=10)).state == "up to date"


def test_a_drill_run_resets_the_clock(drill: Drill, drilled_account: Any) -> None:
    status = account_drill_status(account=drilled_account)
    assert status.upcoming == drill
    assert status.last is None
    drill = _run(drill)
    status = account_drill_status(account=drilled_account, now=timezone.now() + timedelta(days=89))
    assert status.last == drill
    assert status.upcoming is None
    assert not status.overdue
