"""Each report's rows for the small world, and query counts that do not grow with the rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits import services
from audits.models import Finding, RootEvent
from audits.reports import REPORTS, ReportFilter
from audits.reports.base import Row
from audits.tests.findings_support import checkout, hours_ago
from audits.tests.reports.conftest import World
from breakglass.tests.lifecycle_helpers import make_request, returned


def rows(name: str, user: Any = None, filters: ReportFilter | None = None) -> list[Row]:
    return list(REPORTS[name].rows(user=user, filters=filters))


def test_the_sessions_report_tells_the_whole_session(world: World, requester: Any, approver: Any) -> None:
    (row,) = rows("sessions")

    assert set(row) == set(REPORTS["sessions"].columns)
    assert row["code"] == world.session.code
    assert row["account_id"] == "123456789012"
    assert row["requester"] == requester.get_username()
    assert row["ticket"] == "CHG-1234"
    assert row["emergency"] is False
    assert row["approvals"][0].startswith(f"{approver.get_username()} approve at ")
    assert row["root_event_ids"] == ["inside-window"]
    assert row["out_of_scope_event_ids"] == ["inside-window"]
    assert row["findings"] == [Finding.objects.get(kind="root_activity_outside_scope").code]
    assert row["checked_in_at"] is not None
    assert row["status"] == world.session.status


def test_the_activity_report_lists_matched_and_unmatched_events(world: World) -> None:
    by_id = {row["event_id"]: row for row in rows("activity")}

    assert by_id["inside-window"]["session"] == world.session.code
    # ListBuckets is not a step of closing an account: matched, but out of the declared scope.
    out_of_scope = Finding.objects.get(kind="root_activity_outside_scope")
    assert by_id["inside-window"]["findings"] == [out_of_scope.code]
    assert by_id["inside-window"]["in_scope"] is False
    assert by_id["outside-window"]["session"] is None
    unapproved = Finding.objects.get(kind="unapproved_root_usage")
    assert by_id["outside-window"]["findings"] == [unapproved.code]


def test_the_findings_report_carries_the_triage_history(world: World, auditor: Any) -> None:
    finding = Finding.objects.get(kind="unapproved_root_usage")
    services.finding_triage(
        finding=finding, actor=auditor, status="acknowledged", note="Looking into it now."
    )

    row = next(row for row in rows("findings") if row["code"] == finding.code)

    assert row["status"] == "acknowledged"
    assert len(row["triage_history"]) == 1
    assert "open -> acknowledged: Looking into it now." in row["triage_history"][0]


def test_the_access_report_has_grants_approvers_custodians_and_devices(
    world: World, requester: Any, approver: Any, custodian: Any
) -> None:
    found = {(row["kind"], row["person"] or row["device_serial"]) for row in rows("access")}

    assert found == {
        ("grant", requester.get_username()),
        ("approver", approver.get_username()),
        ("custodian", custodian.get_username()),
        ("mfa_device", "SN-REPORT-1"),
    }
    grant = next(row for row in rows("access") if row["kind"] == "grant")
    assert grant["expires_at"] is not None
    assert grant["approval_quorum"] == 1


def test_the_ledger_report_keeps_deliveries_apart(world: World) -> None:
    everything = rows("ledger")
    decisions = rows("ledger", filters=ReportFilter(category="decisions"))

    assert [row["sequence"] for row in everything] == sorted(row["sequence"] for row in everything)
    assert all(row["category"] == "decision" for row in decisions)
    assert "access_request.decision" in {row["action"] for row in decisions}
    only = rows("ledger", filters=ReportFilter(action="access_request.decision"))
    assert {row["action"] for row in only} == {"access_request.decision"}


def test_filters_narrow_every_report(world: World) -> None:
    elsewhere = ReportFilter(account_id="000000000000")
    future = ReportFilter(since=datetime(2999, 1, 1, tzinfo=UTC))

    for name in ("sessions", "activity", "findings", "access"):
        assert rows(name, filters=elsewhere) == [], name
    for name in ("sessions", "activity", "findings", "ledger"):
        assert rows(name, filters=future) == [], name


def test_a_requester_reads_no_rows(world: World, requester: Any) -> None:
    for name in REPORTS:
        assert rows(name, user=requester) == [], name


def _queries(name: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        rows(name)
    return len(captured)


def test_query_counts_do_not_grow_with_rows(world: World, requester: Any, approver: Any) -> None:
    before = {name: _queries(name) for name in REPORTS if name != "ledger"}
    for _ in range(3):
        returned(make_request(requester, world.account), approver)
    checkout(requester, world.account, approver, out_at=hours_ago(10), checked_in_at=hours_ago(9))

    after = {name: _queries(name) for name in REPORTS if name != "ledger"}

    assert len(rows("sessions")) == 5
    assert after == before


def test_a_session_with_many_root_events_costs_no_more_queries(world: World) -> None:
    """The sessions report reads a chunk's root events as (id, scope) pairs in one query, in time
    order, however many events a session holds (bench/reports_benchmark.py measures the memory)."""
    before = _queries("sessions")
    first = RootEvent.objects.get(event_id="inside-window")
    RootEvent.objects.bulk_create(
        RootEvent(
            event_id=f"later-{index:03d}",
            aws_account_id=first.aws_account_id,
            event_time=first.event_time + timedelta(seconds=index + 1),
            event_name=first.event_name,
            event_source=first.event_source,
            session=world.session,
            in_scope=index % 2 == 0,
            raw={},
        )
        for index in range(200)
    )

    (row,) = rows("sessions")

    assert _queries("sessions") == before
    assert row["root_event_ids"] == ["inside-window", *(f"later-{index:03d}" for index in range(200))]
    assert row["out_of_scope_event_ids"] == [
        "inside-window",
        *(f"later-{index:03d}" for index in range(1, 200, 2)),
    ]
