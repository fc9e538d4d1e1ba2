"""What time does to requests (:mod:`breakglass.sweeps`): expiry and overdue reminders, and the beat
tasks that run them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from breakglass import sweeps, tasks
from breakglass.models import AccessRequest
from breakglass.tests.lifecycle_helpers import (
    active,
    approve,
    make_request,
)
from ledger.models import LedgerEntry
from portal.policy import Role

pytestmark = pytest.mark.django_db


# --- Time ------------------------------------------------------------------------------------


def test_stale_requests_expire_and_active_ones_do_not(
    requester: Any, account: Any, approver: Any, make_persona: Any
) -> None:
    # One pending request per person and account: each request here is someone else's.
    others = [make_persona(f"requester.{n}", Role.REQUESTER) for n in range(3)]
    pending = make_request(requester, account)
    AccessRequest.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(hours=25))
    approved = approve(make_request(others[0], account), approver)
    AccessRequest.objects.filter(pk=approved.pk).update(starts_at=timezone.now() - timedelta(hours=2))
    fresh = make_request(others[1], account)
    running = active(make_request(others[2], account), approver)

    assert sweeps.access_requests_expire() == 2
    statuses = dict(AccessRequest.objects.values_list("pk", "status"))
    assert statuses[pending.pk] == "expired"
    assert statuses[approved.pk] == "expired"
    assert statuses[fresh.pk] == "pending"
    assert statuses[running.pk] == "active"
    assert sweeps.access_requests_expire() == 0


def test_overdue_check_outs_are_announced_again_at_intervals(
    requester: Any, account: Any, approver: Any
) -> None:
    request = active(make_request(requester, account), approver)
    AccessRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() - timedelta(minutes=5))

    assert sweeps.checkouts_remind_overdue() == 1
    assert sweeps.checkouts_remind_overdue() == 0
    assert sweeps.checkouts_remind_overdue(now=timezone.now() + timedelta(minutes=31)) == 1
    assert LedgerEntry.objects.filter(action="access_request.overdue_notice").count() == 2


def test_the_beat_tasks_run_the_time_services(requester: Any, account: Any, approver: Any) -> None:
    request = active(make_request(requester, account), approver)
    AccessRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    stale = make_request(requester, account)
    AccessRequest.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=2))

    assert tasks.remind_overdue_checkouts() == 1
    assert tasks.expire_access_requests() == 1
