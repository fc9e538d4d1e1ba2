"""Export jobs in tests: Celery runs tasks in place (eager), files go to a temporary folder, and a
helper posts a start, lets the job run on commit, and downloads the file from the job page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audits.models import ExportJob
from portal.celery import app as celery_app


@pytest.fixture
def eager_jobs(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """Tasks run where they are queued; the export folder is the test's own."""
    settings.PORTAL_EXPORT_DIR = tmp_path / "exports"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield settings.PORTAL_EXPORT_DIR
    finally:
        celery_app.conf.task_always_eager = previous


def start_job(client: Client, capture: Callable[..., Any], url: str, data: dict[str, Any]) -> ExportJob:
    """POST the start, run the job its commit queued; the job, from the page it redirects to."""
    with capture(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.status_code
    job = ExportJob.objects.get(uuid=response["Location"].rstrip("/").split("/")[-1])
    assert response["Location"] == reverse("audits:export_job_detail", args=[job.uuid])
    job.refresh_from_db()
    return job


def download(client: Client, job: ExportJob) -> bytes:
    response = client.get(reverse("audits:export_job_download", args=[job.uuid]))
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)
