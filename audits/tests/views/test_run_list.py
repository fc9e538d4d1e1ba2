"""``run_list``: the ingestion runs, paged."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audits.choices import SourceKind
from audits.models import IngestionRun
from audits.tests.views.support import RUNS

pytestmark = pytest.mark.django_db


def test_runs_are_paged(client: Client, administrator: Any) -> None:
    for n in range(55):
        IngestionRun.objects.create(kind=SourceKind.FILES, unit=f"unit-{n:02d}")
    client.force_login(administrator)

    first = client.get(RUNS)
    second = client.get(RUNS, {"cursor": first.context["page"].next_cursor})

    assert len(first.context["page"].items) == 50
    assert [run.unit for run in second.context["page"].items] == [f"unit-{n:02d}" for n in range(4, -1, -1)]
    assert 'rel="next"' in first.content.decode()
