"""The findings and runs pages read through an index in their own order (issue 13's EXPLAIN).

The planner picks a sequential scan on a small table whatever indexes exist, so the plan is asked
with sequential scans and sorts priced out: it then names the index only if one matches the order.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from audits import selectors

pytestmark = pytest.mark.django_db


def _plan(queryset: Any) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
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
