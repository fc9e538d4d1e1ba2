"""``log_upload``: auditors and administrators upload a CloudTrail file; it is ingested as a run and
the ledger records ``logs.uploaded``."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audits.choices import FindingKind, RunStatus, SourceKind
from audits.models import Finding, IngestionRun, RootEvent
from audits.tests.findings_support import UNKNOWN_ACCOUNT_ID, hours_ago, root_call
from audits.tests.views.support import RUNS, UPLOAD
from ledger.models import LedgerEntry
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def gz_delivery(records: list[dict[str, Any]]) -> bytes:
    return gzip.compress(json.dumps({"Records": records}).encode())


@pytest.fixture
def worker(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Uploads are ingested by a Celery task once the upload commits: here, in-process."""
    settings.PORTAL_UPLOAD_DIR = tmp_path / "uploads"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


def test_an_auditor_uploads_a_log_and_sees_the_run_and_the_finding(
    client: Client, auditor: Any, worker: None, django_capture_on_commit_callbacks: Any
) -> None:
    data = gz_delivery([root_call(when=hours_ago(1), account=UNKNOWN_ACCOUNT_ID, event_id="uploaded-root")])
    client.force_login(auditor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(UPLOAD, {"log_file": SimpleUploadedFile("trail.json.gz", data)})
    response = client.get(response["Location"])

    run = IngestionRun.objects.get()
    assert response.request["PATH_INFO"] == reverse("audits:run_detail", kwargs={"uuid": run.uuid})
    assert run.kind == SourceKind.UPLOAD
    assert run.triggered_by == auditor
    assert run.status == RunStatus.SUCCEEDED
    assert (run.files_read, run.records_read, run.root_records) == (1, 1, 1)
    assert RootEvent.objects.filter(event_id="uploaded-root").exists()
    assert Finding.objects.filter(kind=FindingKind.UNAPPROVED_ROOT_USAGE, aws_account_id=UNKNOWN_ACCOUNT_ID)
    content = response.content.decode()
    assert "trail.json.gz" in content
    assert "The file was uploaded; it is being read now." in content
    entry = LedgerEntry.objects.get(action="logs.uploaded")
    assert entry.actor_id == auditor.pk
    assert entry.target_id == str(run.uuid)
    assert entry.data["file"] == "trail.json.gz"
    assert entry.data["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry.data["bytes"] == len(data)


def test_an_upload_that_cannot_be_read_is_a_run_with_the_reason(
    client: Client, administrator: Any, worker: None, django_capture_on_commit_callbacks: Any
) -> None:
    good = gzip.compress(json.dumps({"Records": [root_call(when=hours_ago(1))] * 50}).encode())
    client.force_login(administrator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            UPLOAD, {"log_file": SimpleUploadedFile("cut.json.gz", good[: len(good) // 2])}
        )
    response = client.get(response["Location"])

    run = IngestionRun.objects.get()
    assert run.status == RunStatus.PARTIAL
    assert run.files_rejected == 1
    content = response.content.decode()
    assert "cut.json.gz" in content
    assert "truncated gzip" in content


def test_an_upload_named_like_a_path_is_known_by_its_name_only(client: Client, auditor: Any) -> None:
    data = gz_delivery([root_call(when=hours_ago(1), account=UNKNOWN_ACCOUNT_ID)])
    upload = SimpleUploadedFile("x.json.gz", data)
    upload.name = "../../etc/trail.json.gz"  # a hand-made request; Django's parser would strip it
    client.force_login(auditor)

    client.post(UPLOAD, {"log_file": upload})

    assert IngestionRun.objects.get().unit == "trail.json.gz"
    assert LedgerEntry.objects.get(action="logs.uploaded").data["file"] == "trail.json.gz"


def test_an_empty_upload_is_refused(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    response = client.post(UPLOAD, {"log_file": SimpleUploadedFile("empty.json", b"")})

    assert response.status_code == 200
    assert not IngestionRun.objects.exists()


def test_the_upload_form_is_offered_on_the_runs_page(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    assert f'href="{UPLOAD}"' in client.get(RUNS).content.decode()
    assert 'enctype="multipart/form-data"' in client.get(UPLOAD).content.decode()


@pytest.mark.parametrize("persona", ["approver", "custodian"])
def test_an_upload_by_someone_else_is_refused_and_reads_nothing(
    client: Client, request: pytest.FixtureRequest, persona: str
) -> None:
    client.force_login(request.getfixturevalue(persona))

    response = client.post(UPLOAD, {"log_file": SimpleUploadedFile("t.json.gz", gz_delivery([]))})

    assert response.status_code == 403
    assert not IngestionRun.objects.exists()
