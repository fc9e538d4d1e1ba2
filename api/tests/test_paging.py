"""Every list of the API pages by cursor (``api.paging``): walking ``next`` gives each row once, in the
list's order, and a page's SQL does not grow with how deep it is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.choices import Scope
from api.tests.conftest import ApiClient
from audits.choices import SourceKind
from audits.models import IngestionRun, RootEvent
from audits.tests.views.support import make_event
from breakglass.tests.factories import AwsAccountFactory, GrantFactory
from breakglass.tests.lifecycle_helpers import make_request

pytestmark = pytest.mark.django_db

ROWS = 7


def _walk(client: ApiClient, path: str, key: str) -> tuple[list[Any], list[int]]:
    """Every row of a list, two at a time, and the queries each page ran."""
    seen: list[Any] = []
    queries: list[int] = []
    cursor = ""
    for _ in range(ROWS + 5):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, {"limit": 2, "cursor": cursor})
        assert response.status_code == 200, response.content
        queries.append(len(captured.captured_queries))
        body = response.json()
        assert set(body) == {"items", "next"}
        seen += [item[key] for item in body["items"]]
        if body["next"] is None:
            return seen, queries
        cursor = body["next"]
    raise AssertionError("the list never ended")


def _accounts(auditor: Any, **_: Any) -> list[Any]:
    for n in range(ROWS):
        AwsAccountFactory(name=f"acct-{n:02d}")
    return [f"acct-{n:02d}" for n in range(ROWS)]


def _requests(auditor: Any, requester: Any, account: Any, **_: Any) -> list[Any]:
    GrantFactory(user=requester, account=account)
    made = []
    for _n in range(ROWS):
        request = make_request(requester, account)
        request.status = "cancelled"
        request.save(update_fields=["status"])
        made.append(request.code)
    return list(reversed(made))


def _runs(auditor: Any, **_: Any) -> list[Any]:
    runs = [IngestionRun.objects.create(kind=SourceKind.FILES, unit=f"unit-{n}") for n in range(ROWS)]
    return [str(run.uuid) for run in reversed(runs)]


def _root_events(auditor: Any, **_: Any) -> list[Any]:
    now = timezone.now()
    for n in range(ROWS):
        make_event(when=now - timedelta(minutes=n % 3))  # ties in time: the id breaks them
    return list(RootEvent.objects.order_by("-event_time", "-id").values_list("event_id", flat=True))


LISTS = {
    "accounts": ("/api/v1/accounts", "name", Scope.READ_INVENTORY, _accounts),
    "requests": ("/api/v1/requests", "code", Scope.READ_INVENTORY, _requests),
    "ingestion runs": ("/api/v1/ingestion-runs", "uuid", Scope.READ_FINDINGS, _runs),
    "root events": ("/api/v1/root-events", "event_id", Scope.READ_FINDINGS, _root_events),
}


@pytest.mark.parametrize("name", list(LISTS))
def test_walking_next_reads_every_row_once_in_order_at_a_flat_query_count(
    name: str, auditor: Any, requester: Any, account: Any, api_as: Callable[..., ApiClient]
) -> None:
    path, key, scope, make = LISTS[name]
    expected = make(auditor=auditor, requester=requester, account=account)

    seen, queries = _walk(api_as(auditor, scope), path, key)

    assert [row for row in seen if row in expected] == expected
    assert len(seen) == len(set(seen))
    # The last page may answer with fewer rows; every full page costs the same.
    assert len(set(queries[:-1])) <= 1, queries
