"""Uploads are accepted and stored by the web request and ingested by a Celery task (issue 8, item 5):
the request never reads the file, the page shows the run's progress, and the upload's and the
ingestion's ledger entries are written in the transactions that store what they describe."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audits import uploads
from audits.choices import RunStatus, SourceKind
from audits.models import IngestionRun, RootEvent
from audits.tests.findings_support import UNKNOWN_ACCOUNT_ID, hours_ago, root_call
from ledger import services as ledger_services
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

UPLOAD = reverse("audits:log_upload")


@pytest.fixture(autouse=True)
def upload_dir(settings: Any, tmp_path: Path) -> Path:
    settings.PORTAL_UPLOAD_DIR = tmp_path / "uploads"
    return Path(settings.PORTAL_UPLOAD_DIR)


def gz_delivery(records: list[dict[str, Any]]) -> bytes:
    return gzip.compress(json.dumps({"Records": records}).encode())


def test_the_request_stores_the_upload_and_reads_nothing(
    client: Client, auditor: Any, upload_dir: Path
) -> None:
    # Fails before the fix: the file was ingested inside the web request (and killed its worker).
    data = gz_delivery([root_call(when=hours_ago(1), account=UNKNOWN_ACCOUNT_ID, event_id="later")])
    client.force_login(auditor)

    response = client.post(UPLOAD, {"log_file": SimpleUploadedFile("trail.json.gz", data)})

    run = IngestionRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("audits:run_detail", kwargs={"uuid": run.uuid})
    assert run.status == RunStatus.QUEUED
    assert run.kind == SourceKind.UPLOAD
    assert run.unit == "trail.json.gz"
    assert not RootEvent.objects.exists()
    assert uploads.upload_path(run).read_bytes() == data
    assert uploads.upload_path(run).parent == upload_dir
    entry = LedgerEntry.objects.get(action="logs.uploaded")
    assert entry.target_id == str(run.uuid)
    assert entry.data["sha256"] == hashlib.sha256(data).hexdigest()
    page = client.get(response["Location"]).content.decode()
    assert "Queued" in page
    assert 'http-equiv="refresh"' in page


def test_the_task_ingests_the_upload_and_records_it_in_the_ledger(
    client: Client, auditor: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    data = gz_delivery([root_call(when=hours_ago(1), account=UNKNOWN_ACCOUNT_ID, event_id="uploaded-root")])
    client.force_login(auditor)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(UPLOAD, {"log_file": SimpleUploadedFile("trail.json.gz", data)})

    run = IngestionRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED
    assert (run.files_read, run.records_read, run.root_records) == (1, 1, 1)
    assert RootEvent.objects.filter(event_id="uploaded-root").exists()
    assert not uploads.upload_path(run).exists()
    done = LedgerEntry.objects.get(action="logs.ingested")
    assert done.target_id == str(run.uuid)
    assert done.data["status"] == RunStatus.SUCCEEDED
    assert done.data["root_records"] == 1
    page = client.get(reverse("audits:run_detail", kwargs={"uuid": run.uuid})).content.decode()
    assert 'http-equiv="refresh"' not in page


def test_a_second_delivery_of_the_task_reads_nothing_twice(
    client: Client, auditor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = gz_delivery([root_call(when=hours_ago(1), account=UNKNOWN_ACCOUNT_ID)])
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(UPLOAD, {"log_file": SimpleUploadedFile("trail.json.gz", data)})
    run = IngestionRun.objects.get()

    assert uploads.ingest_upload(run.pk) is not None
    assert uploads.ingest_upload(run.pk) is None

    run.refresh_from_db()
    assert run.records_read == 1
    assert LedgerEntry.objects.filter(action="logs.ingested").count() == 1


def test_an_upload_whose_ledger_entry_fails_stores_nothing(
    client: Client, auditor: Any, upload_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fails before the fix: the run and its data were stored first and the ledger entry written after.
    def broken(**_: Any) -> None:
        raise RuntimeError("ledger down")

    monkeypatch.setattr(ledger_services, "record", broken)
    client.force_login(auditor)

    response = client.post(UPLOAD, {"log_file": SimpleUploadedFile("t.json.gz", gz_delivery([]))})

    assert response.status_code == 200
    assert "could not be stored" in response.content.decode()
    assert not IngestionRun.objects.exists()
    assert not any(upload_dir.iterdir()) if upload_dir.exists() else True


def test_an_ingestion_whose_ledger_entry_fails_is_not_marked_finished(
    client: Client, auditor: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(UPLOAD, {"log_file": SimpleUploadedFile("t.json.gz", gz_delivery([]))})
    run = IngestionRun.objects.get()
    real = ledger_services.record

    def broken(**kwargs: Any) -> Any:
        if kwargs.get("action") == "logs.ingested":
            raise RuntimeError("ledger down")
        return real(**kwargs)

    monkeypatch.setattr(ledger_services, "record", broken)

    with pytest.raises(RuntimeError):
        uploads.ingest_upload(run.pk)

    run.refresh_from_db()
    # Not "succeeded" without its ledger entry: the sweep will mark it failed.
    assert run.status == RunStatus.RUNNING
    assert not LedgerEntry.objects.filter(action="logs.ingested").exists()
