"""``run_detail``: what an ingestion run read and the problems it met, with file names."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audits.choices import RunStatus, SourceKind
from audits.models import IngestionRun, IngestionSource
from audits.tests.views.support import RUNS

pytestmark = pytest.mark.django_db


def test_runs_show_what_was_read_and_the_problems_with_file_names(client: Client, auditor: Any) -> None:
    source = IngestionSource.objects.create(name="org-trail", kind=SourceKind.S3, config={"bucket": "b"})
    run = IngestionRun.objects.create(
        source=source,
        kind=SourceKind.S3,
        unit="111122223333/eu-west-1",
        status=RunStatus.PARTIAL,
        finished_at=timezone.now(),
        files_read=12,
        files_rejected=1,
        records_read=34_567,
        root_records=3,
        findings_raised=2,
        errors=[{"file": "AWSLogs/o-1/x.json.gz", "reason": "corrupt gzip: CRC check failed"}],
    )
    client.force_login(auditor)

    listing = client.get(RUNS).content.decode()
    detail = client.get(reverse("audits:run_detail", kwargs={"uuid": run.uuid})).content.decode()

    assert "org-trail" in listing
    assert "34,567" in listing
    assert "1 rejected" in listing
    assert "Finished with rejected files" in detail
    assert "AWSLogs/o-1/x.json.gz" in detail
    assert "corrupt gzip: CRC check failed" in detail
    assert "111122223333/eu-west-1" in detail


def test_an_unknown_run_is_not_found(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    assert client.get(reverse("audits:run_detail", kwargs={"uuid": uuid.uuid4()})).status_code == 404
