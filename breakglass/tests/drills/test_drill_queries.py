"""The drills page's reads: the due date computed in the database is the rule of ``drill_status``
(the last drill's check-in, not any other session's), and the three queries read the partial drill
indexes instead of every session of the organization.

The planner picks a sequential scan on a small table whatever indexes exist, so plans are asked
with sequential scans and sorts priced out (as in audits/tests/test_list_indexes.py): they then
name a drill index only if the query can use it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from breakglass import custody, drills
from breakglass.drill_selectors import accounts_by_drill_due, drill_statuses, recent_drills
from breakglass.models import AccessRequest, Drill
from breakglass.tests.factories import AwsAccountFactory
from breakglass.tests.lifecycle_helpers import NEW_PASSWORD, make_request

pytestmark = pytest.mark.django_db


def _run(drill: Drill, *, checked_in_days_ago: int) -> Drill:
    """The performer checks out and checks in, through the services; then the check-in is moved
    back in time."""
    request = custody.access_request_check_out(request=drill.request, requester=drill.request.requester)
    custody.access_request_check_in(request=request, actor=request.requester, work_done="Signed in as root.")
    AccessRequest.objects.filter(pk=request.pk).update(
        checked_in_at=timezone.now() - timedelta(days=checked_in_days_ago)
    )
    drill.refresh_from_db()
    return drill


def test_the_due_date_in_the_database_follows_the_last_drill_and_only_drills(
    drill: Drill,
    drilled_account: Any,
    administrator: Any,
    custodian: Any,
    second_custodian: Any,
    auditor: Any,
    requester: Any,
) -> None:
    first = _run(drill, checked_in_days_ago=100)
    custody.access_request_confirm_rotation(
        request=first.request,
        actor=second_custodian,
        review_note="Drill in scope.",
        new_password=NEW_PASSWORD,
    )
    second = drills.drill_schedule(
        administrator=administrator,
        account=drilled_account,
        performer=custodian,
        starts_at=timezone.now(),
        duration_minutes=30,
        note="",
    )
    second = _run(second, checked_in_days_ago=50)
    # An ordinary session checked in later does not reset the drill clock.
    ordinary = make_request(requester, drilled_account)
    AccessRequest.objects.filter(pk=ordinary.pk).update(checked_in_at=timezone.now())
    never_drilled = AwsAccountFactory(name="never-drilled")

    accounts = list(accounts_by_drill_due(user=auditor))

    interval = timedelta(days=settings.PORTAL_DRILL_INTERVAL_DAYS)
    due = {account.pk: account.drill_due_at for account in accounts}
    assert second.request.checked_in_at is not None
    assert first.request.checked_in_at is not None
    assert due[drilled_account.pk] == second.request.checked_in_at + interval
    assert due[never_drilled.pk] == never_drilled.created_at + interval
    # The page's cards say what the database sorted and filtered on.
    statuses = drill_statuses(accounts)
    assert [status.due_at for status in statuses] == [account.drill_due_at for account in accounts]
    assert next(s for s in statuses if s.account.pk == drilled_account.pk).last == second
    assert drilled_account not in accounts_by_drill_due(user=auditor, state="overdue")
    AccessRequest.objects.filter(pk=second.request_id).update(checked_in_at=first.request.checked_in_at)
    assert drilled_account in accounts_by_drill_due(user=auditor, state="overdue")


def _explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # Else a sort of the few rows the statistics promise after other tests can look cheaper.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_due_order_probes_the_drill_check_in_index(drilled_account: Any, auditor: Any) -> None:
    sql, params = accounts_by_drill_due(user=auditor, state="overdue")[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "request_drill_checkin" in plan, plan
    # No join of the accounts to their sessions to group them: one probe per account.
    assert "Aggregate" not in plan.split("SubPlan")[0], plan


def test_a_pages_drills_and_the_recent_drills_read_the_drill_indexes(
    drill: Drill, drilled_account: Any, auditor: Any
) -> None:
    with CaptureQueriesContext(connection) as statuses_queries:
        [status] = drill_statuses([drilled_account])
    assert status.upcoming == drill
    with CaptureQueriesContext(connection) as recent_queries:
        assert recent_drills(user=auditor) == [drill]
    # Only the drill queries: the auditor's role is looked up on the way.
    [statuses_sql] = [q["sql"] for q in statuses_queries.captured_queries if "breakglass_drill" in q["sql"]]
    [recent_sql] = [q["sql"] for q in recent_queries.captured_queries if "breakglass_drill" in q["sql"]]
    assert "request_drill_checkin" in _explain(statuses_sql)
    assert "request_drill_newest" in _explain(recent_sql)
