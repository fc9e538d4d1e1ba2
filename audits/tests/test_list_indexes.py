"""The findings and runs pages read through an index in their own order (issue 13's EXPLAIN).

The planner picks a sequential scan on a small table whatever indexes exist, so the plan is asked
with sequential scans and sorts priced out: it then names the index only if one matches the order.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from audits import selectors
from breakglass import request_selectors
from ledger.selectors import LedgerFilter, ledger_entries

pytestmark = pytest.mark.django_db


def _plan(queryset: Any) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        # An incremental sort on top of a one-column index is a sort too: with statistics left by
        # earlier tests the planner took event_time's own index and sorted ties by id after it.
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_findings_page_order_reads_the_newest_first_index(auditor: Any) -> None:
    findings = selectors.findings_visible_to(user=auditor)
    assert "finding_newest" in _plan(findings[:50])


def test_findings_by_severity_read_their_own_index(auditor: Any) -> None:
    findings = selectors.findings_visible_to(user=auditor).filter(severity="critical")
    assert "finding_severity_newest" in _plan(findings[:50])


def test_the_runs_page_order_reads_the_newest_first_index(auditor: Any) -> None:
    runs = selectors.ingestion_runs_visible_to(user=auditor)
    assert "run_newest" in _plan(runs[:50])


# --- Deep keyset pages: the cursor bounds the index scan ------------------------------------------


def _page_after(queryset: Any, ordering: tuple[str, ...]) -> Any:
    """The query of a page after a made-up cursor, as ``keyset_page`` sends it."""
    from portal.paging import _beyond

    now = timezone.now()
    values = [now if "at" in name or "seen" in name or "time" in name else 10**9 for name in ordering]
    return queryset.order_by(*ordering).filter(_beyond(ordering, values))[:51]


def _bounded_by_index(plan: str, index: str, column: str) -> bool:
    """The scan of ``index`` has an ``Index Cond`` on ``column``: it starts at the cursor. (A bare
    ``Filter`` would read the index from the top and drop every row before the cursor.)"""
    lines = [line.strip() for line in plan.splitlines()]
    for at, line in enumerate(lines[:-1]):
        if f"using {index} " in f"{line} ":
            following = lines[at + 1]
            return following.startswith("Index Cond") and column in following
    return False


def test_a_deep_findings_page_starts_at_the_cursor_in_the_index(auditor: Any) -> None:
    plan = _plan(_page_after(selectors.findings_visible_to(user=auditor), ("-last_seen", "-id")))
    assert _bounded_by_index(plan, "finding_newest", "last_seen"), plan


def test_a_deep_runs_page_starts_at_the_cursor_in_the_index(auditor: Any) -> None:
    plan = _plan(_page_after(selectors.ingestion_runs_visible_to(user=auditor), ("-started_at", "-id")))
    assert _bounded_by_index(plan, "run_newest", "started_at"), plan


def test_a_deep_ledger_page_starts_at_the_cursor_in_the_sequence_index(auditor: Any) -> None:
    plan = _plan(_page_after(ledger_entries(user=auditor), ("-sequence",)))
    assert _bounded_by_index(plan, "audits_ledgerentry_sequence_key", "sequence"), plan


def test_a_deep_root_events_page_starts_at_the_cursor_in_the_index(auditor: Any) -> None:
    plan = _plan(_page_after(selectors.root_events_visible_to(user=auditor), ("-event_time", "-id")))
    assert _bounded_by_index(plan, "root_event_newest", "event_time"), plan


def test_requests_newest_first_read_their_indexes(auditor: Any, requester: Any) -> None:
    everyone = _plan(_page_after(request_selectors.visible_requests(user=auditor), ("-created_at", "-id")))
    assert _bounded_by_index(everyone, "request_newest", "created_at"), everyone
    own = _plan(_page_after(request_selectors.requests_of(user=requester), ("-created_at", "-id")))
    assert _bounded_by_index(own, "request_requester_newest", "created_at"), own


def test_an_approvers_findings_page_also_starts_at_the_cursor(approver: Any) -> None:
    # Approvers see their accounts' findings: a semi-join, not DISTINCT, so the index order survives.
    plan = _plan(_page_after(selectors.findings_visible_to(user=approver), ("-last_seen", "-id")))
    assert _bounded_by_index(plan, "finding_newest", "last_seen"), plan


def test_the_ledger_by_account_reads_the_account_key_indexes(auditor: Any) -> None:
    entries = ledger_entries(user=auditor, filters=LedgerFilter(account_id="123456789012"))
    sql, params = entries[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        # Only sequential scans priced out: reading the sequence index and filtering every entry's
        # JSON is what the account indexes replace, so it must lose on its own cost.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ledger_data_account_id" in plan
    assert "ledger_data_aws_account_id" in plan
