"""Export jobs: the life of a job (queued, running, done; a failed attempt retried; the last one
failed), that no half-written file is ever marked done, who may see and download a job, the ledger
entries, the expiry purge, and when the Reports page streams instead of starting a job."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audits import export_jobs
from audits.models import ExportJob
from audits.reports import REPORTS, ReportFilter
from audits.tasks import EXPORT_MAX_RETRIES, purge_expired_exports, run_export_job
from audits.tests.reports.conftest import World
from audits.tests.reports.jobs_support import download, eager_jobs, start_job  # noqa: F401 (fixture)
from ledger.models import LedgerEntry
from portal.celery import app as celery_app
from portal.policy import Role

pytestmark = pytest.mark.django_db


def prepare_url(name: str, fmt: str) -> str:
    return reverse("audits:export_job_start", args=[name, fmt])


def queued_job(user: Any, report: str = "sessions", fmt: str = "csv") -> ExportJob:
    """A job started by the service, its task not run (nothing captures the commit)."""
    return export_jobs.export_job_start(user=user, report=report, fmt=fmt, filters=ReportFilter())


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_a_job_is_recorded_queued_then_made_with_its_digest(
    auditor: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
) -> None:
    job = queued_job(auditor)

    assert job.status == "queued"
    assert job.progress_total == 1  # one session in the small world
    started = LedgerEntry.objects.get(action="report.exported")
    assert started.data["job"] == str(job.uuid)
    assert started.actor_id == auditor.pk

    run_export_job.apply(args=[job.pk])

    job.refresh_from_db()
    assert job.status == "done"
    assert (job.progress_done, job.attempts) == (1, 1)
    stored = eager_jobs / job.file_name
    assert files_in(eager_jobs) == [job.file_name]
    # Named by the portal at random, not by the report, the person or the job's uuid.
    assert job.report not in job.file_name
    assert str(job.uuid) not in job.file_name
    assert len(job.file_name.split(".")[0]) >= 32
    assert job.sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert job.size == stored.stat().st_size
    assert job.expires_at is not None
    assert job.finished_at is not None
    assert job.expires_at - job.finished_at == timedelta(hours=24)
    made = LedgerEntry.objects.get(action="export.made")
    assert made.target_id == str(job.uuid)
    assert made.data["sha256"] == job.sha256


def test_a_failed_attempt_is_retried_and_leaves_no_half_written_file(
    auditor: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = queued_job(auditor)
    real_produce = export_jobs._produce
    attempts: list[list[str]] = []

    def fails_once(job: ExportJob, stream: IO[bytes]) -> None:
        attempts.append(files_in(eager_jobs))
        if len(attempts) == 1:
            stream.write(b"half a report")
            stream.flush()
            attempts.append(files_in(eager_jobs))
            raise ConnectionError("the database went away")
        real_produce(job, stream)

    monkeypatch.setattr(export_jobs, "_produce", fails_once)

    run_export_job.apply(args=[job.pk])

    job.refresh_from_db()
    # While writing, only the hidden part file exists; the failed attempt's is gone before the retry.
    assert len(attempts) == 3
    [writing] = attempts[1]
    assert writing.startswith(".")
    assert writing.endswith(".part")
    [rewriting] = attempts[2]  # the retry's own part file; the failed one's is gone
    assert rewriting != writing
    assert (job.status, job.attempts) == ("done", 2)
    assert job.error == ""
    assert files_in(eager_jobs) == [job.file_name]
    assert not (eager_jobs / job.file_name).read_bytes().startswith(b"half a report")


def test_an_attempt_that_fails_says_so_and_waits_for_its_retry(
    auditor: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
) -> None:
    job = queued_job(auditor)
    job.attempts = 1
    job.status = "running"
    job.save()

    export_jobs.export_job_failed(job_id=job.pk, error=ConnectionError("secret dsn"), final=False)

    job.refresh_from_db()
    assert job.status == "queued"
    assert job.error == "Attempt 1 failed (ConnectionError); it will be tried again."
    assert "secret dsn" not in job.error
    assert not LedgerEntry.objects.filter(action="export.failed").exists()


def test_a_job_failing_every_attempt_ends_failed_in_the_ledger_with_no_file(
    auditor: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = queued_job(auditor, fmt="pdf")

    def always_fails(job: ExportJob, stream: IO[bytes]) -> None:
        stream.write(b"%PDF-1.7 half")
        raise OSError("/var/secret/path is full")

    monkeypatch.setattr(export_jobs, "_produce", always_fails)

    run_export_job.apply(args=[job.pk])

    job.refresh_from_db()
    assert job.status == "failed"
    assert job.attempts == EXPORT_MAX_RETRIES + 1
    assert "OSError" in job.error
    assert "/var/secret" not in job.error
    assert job.file_name == ""
    assert files_in(eager_jobs) == []
    failed = LedgerEntry.objects.get(action="export.failed")
    assert failed.data == {"report": "sessions", "format": "pdf", "error": "OSError", "attempts": 3}


def test_a_job_whose_done_state_cannot_be_saved_removes_its_file(
    auditor: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = queued_job(auditor)
    real_ledger = export_jobs._ledger_job

    def ledger_down(job: ExportJob, action: str, data: dict[str, Any], actor: Any) -> None:
        if action == "export.made":
            raise RuntimeError("ledger unavailable")
        real_ledger(job, action, data, actor)

    monkeypatch.setattr(export_jobs, "_ledger_job", ledger_down)

    with pytest.raises(RuntimeError):
        export_jobs.export_job_run(job.pk)

    job.refresh_from_db()
    assert job.status == "running"
    assert job.file_name == ""
    assert files_in(eager_jobs) == []


def test_a_finished_job_is_not_run_again(auditor: Any, world: World, eager_jobs: Path) -> None:  # noqa: F811
    job = queued_job(auditor)
    run_export_job.apply(args=[job.pk])
    job.refresh_from_db()
    first_file = job.file_name

    assert export_jobs.export_job_run(job.pk) is None

    job.refresh_from_db()
    assert (job.file_name, job.attempts) == (first_file, 1)


# --- the pages ---------------------------------------------------------------------------------


def test_the_reports_page_makes_a_pdf_through_the_job_page(
    client: Client,
    auditor: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(auditor)

    job = start_job(client, django_capture_on_commit_callbacks, prepare_url("sessions", "pdf"), {})

    page = client.get(reverse("audits:export_job_detail", args=[job.uuid])).content.decode()
    download_url = reverse("audits:export_job_download", args=[job.uuid])
    assert f'href="{download_url}"' in page
    assert "Ready" in page
    assert job.sha256 in page
    data = download(client, job)
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest() == job.sha256
    entry = LedgerEntry.objects.get(action="export.downloaded")
    assert (entry.actor_id, entry.target_id, entry.data["sha256"]) == (auditor.pk, str(job.uuid), job.sha256)


def test_the_status_endpoint_says_progress_and_then_the_link(
    client: Client,
    auditor: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
) -> None:
    client.force_login(auditor)
    job = queued_job(auditor)
    url = reverse("audits:export_job_status", args=[job.uuid])

    queued = json.loads(client.get(url).content)
    page = client.get(reverse("audits:export_job_detail", args=[job.uuid])).content.decode()
    run_export_job.apply(args=[job.pk])
    done = client.get(url)

    assert queued == {
        "status": "queued",
        "status_label": "Queued",
        "done": 0,
        "total": 1,
        "finished": False,
        "error": "",
        "download_url": None,
    }
    assert "export-job.js" in page
    assert 'http-equiv="refresh"' in page  # inside <noscript>
    assert done["Cache-Control"] == "no-store"
    assert json.loads(done.content)["download_url"] == reverse("audits:export_job_download", args=[job.uuid])


def test_a_download_before_the_file_is_ready_is_refused_without_a_ledger_entry(
    client: Client,
    auditor: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
) -> None:
    client.force_login(auditor)
    job = queued_job(auditor)

    response = client.get(reverse("audits:export_job_download", args=[job.uuid]))

    assert response.status_code == 302
    assert response["Location"] == reverse("audits:export_job_detail", args=[job.uuid])
    assert not LedgerEntry.objects.filter(action="export.downloaded").exists()


@pytest.mark.parametrize("who", ["another_auditor", "administrator"])
def test_nobody_else_sees_or_downloads_a_job(
    client: Client,
    auditor: Any,
    administrator: Any,
    make_persona: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
    who: str,
) -> None:
    job = queued_job(auditor)
    run_export_job.apply(args=[job.pk])
    other = administrator if who == "administrator" else make_persona("auditor2", Role.AUDITOR)
    client.force_login(other)

    for name in ("export_job_detail", "export_job_status", "export_job_download"):
        assert client.get(reverse(f"audits:{name}", args=[job.uuid])).status_code == 404, name
    assert str(job.uuid) not in client.get(reverse("audits:report_index")).content.decode()
    assert not LedgerEntry.objects.filter(action="export.downloaded").exists()


def test_the_owner_who_lost_the_auditor_role_may_not_download(
    client: Client,
    auditor: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
) -> None:
    job = queued_job(auditor)
    run_export_job.apply(args=[job.pk])
    auditor.groups.remove(Group.objects.get(name=Role.AUDITOR.value))
    client.force_login(auditor)

    assert client.get(reverse("audits:export_job_download", args=[job.uuid])).status_code == 403
    assert not LedgerEntry.objects.filter(action="export.downloaded").exists()


def test_small_csv_streams_at_once_but_a_file_is_a_job(
    client: Client,
    auditor: Any,
    world: World,
    settings: Any,
    eager_jobs: Path,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(auditor)

    streamed = client.post(prepare_url("sessions", "csv"))
    as_file = start_job(
        client, django_capture_on_commit_callbacks, prepare_url("sessions", "csv"), {"as_file": "1"}
    )
    settings.PORTAL_EXPORT_STREAM_MAX_ROWS = 0
    over_limit = start_job(client, django_capture_on_commit_callbacks, prepare_url("sessions", "json"), {})

    assert streamed.status_code == 200
    assert streamed.streaming
    assert streamed["Content-Type"].startswith("text/csv")
    assert world.session.code in download(client, as_file).decode()
    assert json.loads(download(client, over_limit))[0]["code"] == world.session.code
    assert ExportJob.objects.count() == 2


def test_a_get_for_a_pdf_goes_to_the_reports_page(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    response = client.get(reverse("audits:report_export", args=["sessions", "pdf"]))

    assert response.status_code == 302
    assert response["Location"] == reverse("audits:report_index") + "#report-sessions"
    assert not LedgerEntry.objects.filter(action="report.exported").exists()


def test_a_job_start_refuses_get_and_unknown_reports(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    assert client.get(prepare_url("sessions", "pdf")).status_code == 405
    assert client.post(prepare_url("nothing", "pdf")).status_code == 404
    assert client.post(prepare_url("sessions", "docx")).status_code == 404
    assert not ExportJob.objects.exists()


# --- expiry ------------------------------------------------------------------------------------


def test_expired_files_are_purged_with_a_ledger_entry(
    auditor: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    old, fresh = queued_job(auditor), queued_job(auditor, fmt="json")
    for job in (old, fresh):
        run_export_job.apply(args=[job.pk])
    ExportJob.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    old.refresh_from_db()
    fresh.refresh_from_db()
    stray_old = eager_jobs / "stray-old.csv"
    stray_new = eager_jobs / ".just-being-written.part"
    stray_old.write_bytes(b"x")
    stray_new.write_bytes(b"x")
    long_ago = time.time() - 25 * 3600
    os.utime(stray_old, (long_ago, long_ago))

    with django_capture_on_commit_callbacks(execute=True):
        assert purge_expired_exports.apply().get() == 1

    old_file = old.file_name
    old.refresh_from_db()
    assert old.status == "expired"
    assert old.file_name == ""
    assert sorted(files_in(eager_jobs)) == sorted([fresh.file_name, stray_new.name])
    assert old_file not in files_in(eager_jobs)
    entry = LedgerEntry.objects.get(action="export.expired")
    assert (entry.target_id, entry.data["sha256"]) == (str(old.uuid), old.sha256)
    assert export_jobs.export_jobs_purge() == 0  # nothing twice


def test_the_findings_report_and_page_filter_by_environment(
    client: Client,
    auditor: Any,
    world: World,
) -> None:
    client.force_login(auditor)
    environment = world.account.environment
    other = "sandbox" if environment != "sandbox" else "staging"

    same = list(REPORTS["findings"].rows(user=auditor, filters=ReportFilter(environment=environment)))
    none = list(REPORTS["findings"].rows(user=auditor, filters=ReportFilter(environment=other)))
    page = client.get(reverse("audits:finding_list"), {"environment": other}).content.decode()

    assert same
    assert none == []
    assert 'name="environment"' in page
    assert same[0]["code"] not in page


def test_a_job_no_worker_finished_ends_failed_at_the_purge(
    auditor: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
) -> None:
    abandoned, recent = queued_job(auditor), queued_job(auditor)
    ExportJob.objects.filter(pk=abandoned.pk).update(updated_at=timezone.now() - timedelta(hours=25))

    export_jobs.export_jobs_purge()

    abandoned.refresh_from_db()
    recent.refresh_from_db()
    assert abandoned.status == "failed"
    assert "TimeoutError" in abandoned.error
    assert recent.status == "queued"
    assert LedgerEntry.objects.get(action="export.failed").target_id == str(abandoned.uuid)


def test_a_broker_that_is_down_leaves_the_job_queued_not_an_error_page(
    client: Client,
    auditor: Any,
    world: World,
    eager_jobs: Path,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("redis:6379")

    monkeypatch.setattr(celery_app, "signature", broker_down)
    client.force_login(auditor)

    job = start_job(client, django_capture_on_commit_callbacks, prepare_url("sessions", "pdf"), {})

    assert job.status == "queued"
    page = client.get(reverse("audits:export_job_detail", args=[job.uuid])).content.decode()
    assert "Waiting for a worker" in page
