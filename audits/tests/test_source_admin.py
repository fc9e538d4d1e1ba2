from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audits.models import IngestionSource
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_an_ingestion_source_added_in_the_admin_is_recorded_in_the_ledger(
    client: Client, administrator: Any
) -> None:
    administrator.is_staff = True
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)

    response = client.post(
        "/admin/audits/ingestionsource/add/",
        {
            "name": "queue",
            "kind": "sqs",
            "config": '{"queue_url": "https://sqs.example/q"}',
            "enabled": "on",
            "schedule_seconds": 10,
        },
    )

    assert response.status_code == 302, response.content[:500]
    source = IngestionSource.objects.get(name="queue")
    entry = LedgerEntry.objects.get(action="ingestion_source.created")
    assert entry.target_id == str(source.uuid)
    assert entry.data["schedule_seconds"] == 10


def test_findings_cannot_be_changed_in_the_admin(client: Client, administrator: Any) -> None:
    administrator.is_staff = True
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    assert client.get("/admin/audits/finding/add/").status_code == 403
