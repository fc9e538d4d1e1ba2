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
    second = client.get(RUNS, {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 5
