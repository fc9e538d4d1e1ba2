"""The evidence pages (make a bundle from the reports page, upload one to have it checked, the
public keys shown) and the commands with their exit codes."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command, execute_from_command_line
from django.test import Client
from django.urls import reverse

from audits.evidence import evidence_keys, verify_bundle
from audits.evidence.bundle import BUNDLE_MEMBERS
from audits.tests.evidence.conftest import flip_one_byte, period, rewrite
from audits.tests.reports.conftest import World
from audits.tests.reports.jobs_support import eager_jobs, start_job  # noqa: F401 (fixture)
from ledger.models import LedgerEntry

MAKE = reverse("audits:evidence_bundle")
VERIFY = reverse("audits:evidence_verify")


def _period_form() -> dict[str, str]:
    since, until = period()
    return {"since": since.date().isoformat(), "until": until.date().isoformat()}


def test_the_reports_page_offers_the_bundle_and_the_check(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    page = client.get(reverse("audits:report_index")).content.decode()

    assert f'action="{MAKE}"' in page
    assert VERIFY in page


def test_an_auditor_downloads_a_bundle_from_the_reports_page(
    client: Client,
    auditor: Any,
    world: World,
    tmp_path: Path,
    eager_jobs: Path,  # noqa: F811 (the fixture imported above)
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(auditor)

    job = start_job(
        client,
        django_capture_on_commit_callbacks,
        MAKE,
        {**_period_form(), "account": world.account.account_id},
    )

    assert (job.report, job.format, job.status) == ("evidence", "zip", "done")
    assert job.progress_done == job.progress_total == BUNDLE_MEMBERS
    response = client.get(reverse("audits:export_job_download", args=[job.uuid]))
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="evidence-')
    path = tmp_path / "downloaded.zip"
    path.write_bytes(b"".join(response.streaming_content))
    assert verify_bundle(path).valid
    entry = LedgerEntry.objects.get(action="evidence.bundle_made")
    assert entry.actor_id == auditor.pk
    assert entry.data["filters"]["account_id"] == world.account.account_id
    assert LedgerEntry.objects.filter(action="evidence.bundle_requested", actor_id=auditor.pk).exists()
    assert LedgerEntry.objects.filter(action="export.downloaded", target_id=str(job.uuid)).exists()


def test_a_bundle_needs_a_whole_period(client: Client, administrator: Any) -> None:
    client.force_login(administrator)

    response = client.post(MAKE, {"since": "2026-01-01"})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not LedgerEntry.objects.filter(action="evidence.bundle_made").exists()


def test_a_requester_may_neither_make_nor_check_a_bundle(client: Client, requester: Any) -> None:
    client.force_login(requester)

    assert client.post(MAKE, _period_form()).status_code == 403
    assert client.get(VERIFY).status_code == 403


def test_the_check_page_shows_the_public_keys(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    page = client.get(VERIFY).content.decode()

    for key_id, key in evidence_keys().public_keys().items():
        assert f"{key_id}:{key}" in page


def test_an_uploaded_bundle_is_valid(client: Client, auditor: Any, bundle: Path) -> None:
    client.force_login(auditor)

    response = client.post(VERIFY, {"bundle": SimpleUploadedFile("evidence.zip", bundle.read_bytes())})

    assert response.status_code == 200
    assert '<h2 id="verification-result">Valid</h2>' in response.content.decode()
    check = LedgerEntry.objects.get(action="evidence.bundle_checked")
    assert check.actor_id == auditor.pk
    with zipfile.ZipFile(bundle) as archive:
        manifest_sha256 = hashlib.sha256(archive.read("manifest.json")).hexdigest()
    assert check.data["manifest_sha256"] == check.target_id == manifest_sha256
    assert check.data["valid"] is True
    assert check.data["problem"] == ""


def test_an_uploaded_bundle_with_a_changed_file_names_it(
    client: Client, auditor: Any, bundle: Path, tmp_path: Path
) -> None:
    changed = rewrite(bundle, tmp_path / "changed.zip", change={"reports/sessions.csv": flip_one_byte})
    client.force_login(auditor)

    response = client.post(VERIFY, {"bundle": SimpleUploadedFile("evidence.zip", changed.read_bytes())})

    page = response.content.decode()
    assert "Not valid" in page
    assert "reports/sessions.csv was changed" in page
    check = LedgerEntry.objects.get(action="evidence.bundle_checked")
    assert check.actor_id == auditor.pk
    assert check.data["valid"] is False
    assert check.data["where"] == "reports/sessions.csv"
    assert check.data["problem"].startswith("reports/sessions.csv was changed")


def test_an_empty_upload_is_refused(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    response = client.post(VERIFY, {"bundle": SimpleUploadedFile("evidence.zip", b"")})

    assert response.status_code == 400


def test_make_and_verify_evidence_commands(tmp_path: Path, world: World, capsys: Any) -> None:
    output = tmp_path / "out.zip"
    since, until = period()

    call_command(
        "make_evidence",
        "--since",
        since.date().isoformat(),
        "--until",
        until.date().isoformat(),
        "--output",
        str(output),
    )
    assert zipfile.is_zipfile(output)
    assert "Evidence bundle written to" in capsys.readouterr().out

    execute_from_command_line(["manage.py", "verify_evidence", str(output)])  # exit 0: no SystemExit
    assert "Evidence bundle valid" in capsys.readouterr().out

    changed = rewrite(output, tmp_path / "changed.zip", change={"controls.json": flip_one_byte})
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "verify_evidence", str(changed)])
    assert exited.value.code == 1
    assert "controls.json was changed" in capsys.readouterr().err


def test_verify_evidence_with_the_printed_public_key(bundle: Path, capsys: Any) -> None:
    out = io.StringIO()
    call_command("evidence_public_key", stdout=out)
    printed = out.getvalue().split()
    assert printed

    execute_from_command_line(
        ["manage.py", "verify_evidence", str(bundle), *[f"--public-key={key}" for key in printed]]
    )

    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(
            ["manage.py", "verify_evidence", str(bundle), "--public-key=other:" + "A" * 43 + "="]
        )
    assert exited.value.code == 1
    assert "unknown key" in capsys.readouterr().err
