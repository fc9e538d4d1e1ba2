"""A rejected upload says why in words (never a Python bytes literal) and does not claim a file
"not read in full" that was never read; the labelled example files of the fixtures are accepted;
the upload page says what it reads (issue 11, item 7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audits.choices import RunStatus
from audits.models import IngestionRun, RootEvent
from audits.tests.views.support import UPLOAD
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "cloudtrail" / "events"


@pytest.fixture
def worker(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.PORTAL_UPLOAD_DIR = tmp_path / "uploads"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


def _upload(client: Client, name: str, content: bytes, capture: Any) -> str:
    with capture(execute=True):
        response = client.post(UPLOAD, {"log_file": SimpleUploadedFile(name, content)})
    return client.get(response["Location"]).content.decode()


def test_a_file_that_is_not_json_is_rejected_in_words(
    client: Client, auditor: Any, worker: None, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(auditor)
    html = _upload(
        client, "notes.txt", b"Hello\x00\x01 this is not a log", django_capture_on_commit_callbacks
    )

    run = IngestionRun.objects.get()
    assert run.files_rejected == 1
    assert "b&#x27;" not in html
    assert "b'" not in html
    assert "\\x00" not in html
    assert "not JSON: it starts with “Hello.. this is ”" in html
    assert "not read in full" not in html
    assert "rejected, nothing read" in html


@pytest.mark.skipif(
    not EXAMPLES.is_dir(), reason="the shared CloudTrail fixtures are not next to the project"
)
def test_a_labelled_example_file_is_read(
    client: Client, auditor: Any, worker: None, django_capture_on_commit_callbacks: Any
) -> None:
    example = EXAMPLES / "panther__root-login-success-nomfa.json"
    client.force_login(auditor)

    _upload(client, example.name, example.read_bytes(), django_capture_on_commit_callbacks)

    run = IngestionRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert (run.records_read, run.root_records) == (1, 1)
    assert RootEvent.objects.filter(event_name="ConsoleLogin").exists()


def test_the_upload_page_says_what_it_reads(client: Client, auditor: Any) -> None:
    client.force_login(auditor)
    html = client.get(UPLOAD).content.decode()
    assert "What it reads" in html
    assert "JSON Lines" in html
    assert "labelled example files" in html
