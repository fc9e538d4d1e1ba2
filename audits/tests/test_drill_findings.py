"""The evidence side of drills and reachability: a drill's root sign-in matched by reconciliation (no
unapproved use, timed, alerted), the critical finding when it never arrives, and the finding of a
silent approver."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from audits import drill_findings
from audits.choices import FindingKind, Severity
from audits.models import Finding, RootEvent
from audits.reconcile import reconcile
from audits.reports.activity import activity_rows
from audits.reports.sessions import session_rows
from audits.tests.findings_support import ingest_records, make_account, root_call, root_login
from breakglass import custody, drills, reachability
from breakglass.choices import DrillResult
from breakglass.models import Drill, Notification
from breakglass.notifications import delivery
from breakglass.notifications.messages import ALERT_EVENT, DRILL_OBSERVED_EVENT
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(approver: Any, custodian: Any) -> Any:
    return make_account(approver, custodian)


@pytest.fixture
def drill(administrator: Any, custodian: Any, account: Any) -> Drill:
    drill = drills.drill_schedule(
        administrator=administrator,
        account=account,
        performer=custodian,
        starts_at=timezone.now(),
        duration_minutes=30,
    )
    custody.access_request_check_out(request=drill.request, requester=custodian)
    drill.refresh_from_db()
    return drill


def _check_in(drill: Drill) -> Drill:
    custody.access_request_check_in(
        request=drill.request, actor=drill.request.requester, work_done="Signed in as root and out."
    )
    drill.refresh_from_db()
    return drill


def _now() -> Any:
    return timezone.now().replace(microsecond=0)


def test_a_drill_sign_in_is_matched_timed_and_alerted_not_unapproved(
    tmp_path: Path, drill: Drill, mailoutbox: list[Any]
) -> None:
    signed_in = _now() - timedelta(seconds=30)
    ingest_records(tmp_path, [root_login(when=signed_in, event_id="drill-login-1")])

    event = RootEvent.objects.get(event_id="drill-login-1")
    assert event.session_id == drill.request_id
    assert event.in_scope is True
    assert not Finding.objects.filter(kind=FindingKind.UNAPPROVED_ROOT_USAGE).exists()
    drill.refresh_from_db()
    assert (drill.root_event_id, drill.signed_in_at) == ("drill-login-1", signed_in)
    assert drill.ingested_at == event.created_at
    assert drill.ingest_delay == event.created_at - signed_in
    alerts = Notification.objects.filter(event=DRILL_OBSERVED_EVENT)
    sent_alerts = alerts.count()
    assert sent_alerts > 0
    for notification in alerts:
        delivery.notification_deliver(notification_id=notification.pk)
    drill.refresh_from_db()
    assert drill.result == DrillResult.PASSED
    assert drill.alert_delay is not None
    assert drill.alert_delay >= timedelta(0)
    assert any("DRILL observed" in mail.subject for mail in mailoutbox)
    # Reconciliation runs again and again (beat, every ingestion): the drill is observed once.
    reconcile(account_ids=[drill.request.account.account_id])
    assert LedgerEntry.objects.filter(action="drill.observed").count() == 1
    assert alerts.count() == sent_alerts


def test_root_work_beyond_signing_in_is_out_of_the_drill_scope(tmp_path: Path, drill: Drill) -> None:
    ingest_records(
        tmp_path,
        [root_login(when=_now() - timedelta(seconds=40)), root_call(when=_now() - timedelta(seconds=20))],
    )
    finding = Finding.objects.get(kind=FindingKind.ROOT_ACTIVITY_OUTSIDE_SCOPE)
    assert finding.session_id == drill.request_id
    assert not Finding.objects.filter(kind=FindingKind.UNAPPROVED_ROOT_USAGE).exists()


def test_a_drill_whose_sign_in_never_arrives_is_a_critical_alerted_finding(
    drill: Drill, settings: Any
) -> None:
    settings.PORTAL_DRILL_EVENT_DEADLINE_MINUTES = 60
    drill = _check_in(drill)
    checked_in = drill.request.checked_in_at
    assert checked_in is not None
    assert drill_findings.drill_events_missing(now=checked_in + timedelta(minutes=59)) == []

    (finding,) = drill_findings.drill_events_missing(now=checked_in + timedelta(minutes=61))
    assert (finding.kind, finding.severity) == (FindingKind.DRILL_EVENT_MISSING, Severity.CRITICAL)
    assert finding.session_id == drill.request_id
    assert finding.alerted_at is not None
    assert "a real root sign-in would go unnoticed too" in finding.summary
    assert Notification.objects.filter(event=ALERT_EVENT).exists()
    drill.refresh_from_db()
    assert (drill.result, drill.finding_code) == (DrillResult.EVENT_MISSING, finding.code)
    assert {"finding.raised", "drill.event_missing"} <= set(
        LedgerEntry.objects.values_list("action", flat=True)
    )
    # Beat runs again: nothing new.
    assert drill_findings.drill_events_missing(now=checked_in + timedelta(minutes=70)) == []
    assert Finding.objects.filter(kind=FindingKind.DRILL_EVENT_MISSING).count() == 1


def test_a_stored_but_unreconciled_sign_in_is_not_missing(tmp_path: Path, drill: Drill) -> None:
    ingest_records(tmp_path, [root_login(when=_now() - timedelta(seconds=30))])
    # As if reconciliation had not run yet since the ingestion.
    RootEvent.objects.update(session=None, in_scope=None)
    Drill.objects.update(
        root_event_id="", signed_in_at=None, ingested_at=None, observed_at=None, ingest_delay=None
    )
    drill = _check_in(drill)
    assert drill.request.checked_in_at is not None
    assert drill_findings.drill_events_missing(now=drill.request.checked_in_at + timedelta(hours=2)) == []
    drill.refresh_from_db()
    assert drill.signed_in_at is not None
    assert drill.result != DrillResult.EVENT_MISSING


def test_a_silent_approver_is_medium_while_the_quorum_holds(
    account: Any, approver: Any, second_approver: Any
) -> None:
    account.approvers.add(second_approver)  # quorum 1: anna alone still meets it
    check = reachability.reachability_ask(approver=approver)
    reachability.reachability_lapse_due(now=check.deadline)
    finding = Finding.objects.get(kind=FindingKind.APPROVER_UNREACHABLE)
    assert finding.severity == Severity.MEDIUM
    assert finding.account == account
    assert approver.username in finding.summary


def test_a_silent_approver_is_high_when_the_quorum_cannot_be_met(
    account: Any, approver: Any, second_approver: Any
) -> None:
    account.approvers.add(second_approver)
    account.approval_quorum = 2
    account.save()
    asked = timezone.now()
    checks = [reachability.reachability_ask(approver=p, now=asked) for p in (approver, second_approver)]
    reachability.reachability_lapse_due(now=checks[0].deadline)
    findings = Finding.objects.filter(kind=FindingKind.APPROVER_UNREACHABLE).order_by("pk")
    assert [f.severity for f in findings] == [Severity.HIGH, Severity.HIGH]
    assert "fewer than its quorum of 2" in findings[0].summary
    # Re-sending the signal for the same check raises nothing twice.
    reachability.reachability_lapse_due(now=checks[0].deadline + timedelta(days=1))
    assert findings.count() == 2


def test_reports_mark_the_drill_and_its_root_events(tmp_path: Path, drill: Drill) -> None:
    ingest_records(tmp_path, [root_login(when=_now() - timedelta(seconds=30), event_id="drill-login-2")])
    (session,) = session_rows(user=None)
    assert session["code"] == drill.request.code
    assert session["drill"] is True
    assert session["root_event_ids"] == ["drill-login-2"]
    (activity,) = activity_rows(user=None)
    assert (activity["session"], activity["drill"]) == (drill.request.code, True)
