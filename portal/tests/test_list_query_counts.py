"""No list page runs more SQL as the organization grows (issue 13).

The organization comes from the benchmarks' own generator (``bench/org_generator.py``), at two sizes
that differ four-fold in every table; each person of each role reads every list page of
``bench/personas.py`` at both sizes and the query counts must be equal. Each size is built inside a
savepoint that is rolled back, so the second starts from the same empty database as the first.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from org_generator import Shape, generate  # noqa: E402
from personas import personas  # noqa: E402

pytestmark = pytest.mark.django_db

SMALL = Shape(
    accounts=4, people=24, grants=12, sessions=24, events=120, unmatched_findings=12, ledger_entries=24
)
LARGE = Shape(
    accounts=16, people=24, grants=48, sessions=96, events=480, unmatched_findings=48, ledger_entries=96
)


#: Every page that lists rows without bound (issue 13: "a test asserts constant query counts for every
#: list page"); a new list page goes here and into ``bench/personas.py``.
EVERY_LIST_PAGE = {
    "breakglass:account_list",
    "breakglass:device_list",
    "breakglass:request_list",
    "breakglass:request_approvals",
    "breakglass:request_active",
    "breakglass:custody_board",
    "breakglass:drill_list",
    "breakglass:review_inbox",
    "breakglass:review_campaign_list",
    "breakglass:review_campaign_detail",
    "audits:finding_list",
    "audits:run_list",
    "audits:organization",
    "audits:organization_posture",
    "audits:report_index",
    "ledger:ledger_list",
    "api:token_list",
}


def _list_page_queries(shape: Shape) -> dict[tuple[str, str], int]:
    point = transaction.savepoint()
    try:
        counts = {}
        for persona in personas(generate(shape)):
            for name, path, is_list in persona["pages"]:
                if not is_list:
                    continue
                with CaptureQueriesContext(connection) as queries:
                    response = persona["client"].get(path)
                assert response.status_code == 200, (persona["role"], name, response.status_code)
                counts[(persona["role"], name)] = len(queries.captured_queries)
        return counts
    finally:
        transaction.savepoint_rollback(point)


def test_every_list_page_runs_as_many_queries_for_a_larger_organization() -> None:
    small = _list_page_queries(SMALL)
    large = _list_page_queries(LARGE)

    assert small.keys() == large.keys()
    assert len(small) >= 40  # every role's list pages, with their searches, filters and deep pages
    grown = {page: (small[page], large[page]) for page in small if large[page] != small[page]}
    assert grown == {}, f"query counts grew with the data (small, large): {grown}"


def test_the_personas_read_every_list_page() -> None:
    generated = generate(SMALL)
    read = {
        resolve(urlsplit(path).path).view_name
        for persona in personas(generated)
        for _name, path, is_list in persona["pages"]
        if is_list
    }
    assert EVERY_LIST_PAGE - read == set()
