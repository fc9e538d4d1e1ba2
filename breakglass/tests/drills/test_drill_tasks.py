"""The beat tasks of drills and reachability: in the one schedule under stable names, and each
doing its service's work when beat runs it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audits import tasks as audit_tasks
from audits.choices import FindingKind
from audits.models import Finding
from breakglass import custody, tasks
from breakglass.models import Drill, ReachabilityCheck
from portal.celery import app as celery_app


@pytest.mark.parametrize(
    ("entry", "task", "seconds"),
    [
        ("drill-events-missing", "audits.tasks.drill_events_missing", 300.0),
        ("ask-approvers-reachability", "breakglass.tasks.ask_approvers_reachability", 86400.0),
        ("lapse-reachability-checks", "breakglass.tasks.lapse_reachability_checks", 3600.0),
    ],
)
def test_beat_runs_each_task_on_its_schedule(entry: str, task: str, seconds: float) -> None:
    assert celery_app.conf.beat_schedule[entry] == {"task": task, "schedule": seconds}
    assert task in celery_app.tasks


@pytest.mark.django_db
def test_the_reachability_tasks_ask_and_lapse(account: Any, approver: Any) -> None:
    assert tasks.ask_approvers_reachability.apply().get() == 1
    check = ReachabilityCheck.objects.get(approver=approver)
    ReachabilityCheck.objects.filter(pk=check.pk).update(
        asked_at=timezone.now() - timedelta(days=8), deadline=timezone.now() - timedelta(seconds=1)
    )
    assert tasks.lapse_reachability_checks.apply().get() == 1
    assert Finding.objects.filter(kind=FindingKind.APPROVER_UNREACHABLE).count() == 1


@pytest.mark.django_db
def test_the_missing_event_task_raises_the_finding(drill: Drill, settings: Any) -> None:
    settings.PORTAL_DRILL_EVENT_DEADLINE_MINUTES = 60
    request = custody.access_request_check_out(request=drill.request, requester=drill.request.requester)
    custody.access_request_check_in(request=request, actor=request.requester, work_done="Signed in and out.")
    drill.request.__class__.objects.filter(pk=drill.request_id).update(
        checked_in_at=timezone.now() - timedelta(minutes=61)
    )
    (code,) = audit_tasks.drill_events_missing.apply().get()
    assert Finding.objects.get(code=code).kind == FindingKind.DRILL_EVENT_MISSING
