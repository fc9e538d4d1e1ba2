"""``breakglass.task_runs``: the writes around the portal's AssumeRoot call. One run per approved
session, a retry after a failure within the window, the outcome and its ledger entry, and the
check-in a success makes. (The AWS side is exercised end to end in ``audits/tests/test_task_runner.py``.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from breakglass import custody, task_runs
from breakglass.choices import GovernanceMode
from breakglass.models import AccessRequest, Notification, RootTaskRun
from breakglass.tests.factories import AwsAccountFactory
from breakglass.tests.lifecycle_helpers import approve, make_request
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db

KEY = "ASIAEXAMPLEKEY000001"


@pytest.fixture
def session(requester: Any, approver: Any, custodian: Any) -> AccessRequest:
    account = AwsAccountFactory(
        name="data-lake", account_id="222222222222", governance_mode=GovernanceMode.CENTRALISED
    )
    account.approvers.set([approver])
    account.custodians.set([custodian])
    request = approve(
        make_request(requester, account, root_task="assume_root_s3_unlock", bucket_name="orders-archive"),
        approver,
    )
    return custody.access_request_check_out(request=request, requester=requester)


def _finish(run: RootTaskRun, *, ok: bool, error: str = "", key: str = KEY) -> RootTaskRun:
    return task_runs.task_run_finish(
        run=run,
        ok=ok,
        error=error,
        access_key_id=key,
        found={"policy_removed": '{"Statement": []}'} if ok else {},
        finished_at=timezone.now(),
    )


def _actions(session: AccessRequest) -> list[str]:
    return list(
        LedgerEntry.objects.filter(target_id=str(session.uuid))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def test_a_successful_run_keeps_its_result_and_checks_the_session_in(
    requester: Any, session: AccessRequest
) -> None:
    run = task_runs.task_run_start(request=session, holder=requester)
    assert run.status == "running"
    assert run.target == {"bucket_name": "orders-archive"}

    done = _finish(run, ok=True)

    session.refresh_from_db()
    assert done.status == "succeeded"
    assert done.access_key_id == KEY
    assert session.status == "returned"
    assert session.checked_in_by == requester
    assert KEY in session.work_done
    assert "orders-archive" in session.work_done
    assert _actions(session)[-4:] == [
        "access_request.active",
        "root_task.started",
        "root_task.succeeded",
        "access_request.returned",
    ]
    entry = LedgerEntry.objects.get(action="root_task.succeeded", target_id=str(session.uuid))
    assert entry.data["access_key_id"] == KEY
    # Custodians hear that a session waits for their review, not for a password rotation.
    told = Notification.objects.get(event="request.task_ran", recipient__isnull=False)
    assert "review the session" in told.body
    assert not Notification.objects.filter(event="request.checked_in").exists()
    assert entry.data["found"] == {"policy_removed": '{"Statement": []}'}


def test_a_second_press_while_running_is_refused(requester: Any, session: AccessRequest) -> None:
    task_runs.task_run_start(request=session, holder=requester)
    with pytest.raises(DomainError, match="running"):
        task_runs.task_run_start(request=session, holder=requester)


def test_a_failed_run_may_be_retried_within_the_window_and_says_why(
    requester: Any, session: AccessRequest
) -> None:
    first = _finish(
        task_runs.task_run_start(request=session, holder=requester),
        ok=False,
        error="NoSuchBucketPolicy",
        key="",
    )
    session.refresh_from_db()
    assert session.status == "active"
    assert first.error == "NoSuchBucketPolicy"

    second = task_runs.task_run_start(request=session, holder=requester)
    _finish(second, ok=True)

    assert list(session.task_runs.values_list("status", flat=True)) == ["failed", "succeeded"]
    started = LedgerEntry.objects.filter(action="root_task.started", target_id=str(session.uuid)).order_by(
        "sequence"
    )
    assert [entry.data["attempt"] for entry in started] == [1, 2]


def test_no_run_after_a_success(requester: Any, session: AccessRequest) -> None:
    _finish(task_runs.task_run_start(request=session, holder=requester), ok=True)
    with pytest.raises(DomainError, match="returned"):
        task_runs.task_run_start(request=session, holder=requester)


def test_no_run_once_the_session_is_due(requester: Any, session: AccessRequest) -> None:
    AccessRequest.objects.filter(pk=session.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(DomainError, match="time to run the task is over"):
        task_runs.task_run_start(request=session, holder=requester)
    assert not session.task_runs.exists()


def test_only_the_holder_runs_the_task(approver: Any, session: AccessRequest) -> None:
    with pytest.raises(DomainError, match="Only the holder"):
        task_runs.task_run_start(request=session, holder=approver)


def test_a_run_left_running_by_a_dead_process_is_given_up_by_the_next_press(
    requester: Any, session: AccessRequest
) -> None:
    stuck = task_runs.task_run_start(request=session, holder=requester)
    RootTaskRun.objects.filter(pk=stuck.pk).update(started_at=timezone.now() - task_runs.ABANDONED_AFTER)

    again = task_runs.task_run_start(request=session, holder=requester)

    stuck.refresh_from_db()
    assert stuck.status == "failed"
    assert "given up" in stuck.error
    assert again.status == "running"
    assert "root_task.abandoned" in _actions(session)


def test_a_result_is_stored_once(requester: Any, session: AccessRequest) -> None:
    run = task_runs.task_run_start(request=session, holder=requester)
    _finish(run, ok=False, error="AccessDenied")
    with pytest.raises(DomainError, match="already has its result"):
        _finish(run, ok=True)


def test_an_assume_root_session_is_announced_in_its_own_words(session: AccessRequest) -> None:
    events = set(Notification.objects.filter(request=session).values_list("event", flat=True))
    assert "request.task_started" in events
    assert "request.checked_out" not in events


def test_an_overdue_assume_root_session_asks_for_the_task_not_a_return(session: AccessRequest) -> None:
    from breakglass import sweeps

    AccessRequest.objects.filter(pk=session.pk).update(due_at=timezone.now() - timedelta(minutes=5))

    assert sweeps.checkouts_remind_overdue() == 1
    events = set(Notification.objects.filter(request=session).values_list("event", flat=True))
    assert "request.task_overdue" in events
    assert "request.overdue" not in events
