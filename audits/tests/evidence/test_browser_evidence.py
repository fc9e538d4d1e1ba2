"""An auditor, in headless Chromium, with a real Celery worker on Redis: prepares the sessions report
as PDF from the Reports page, watches the job page until the download link appears, downloads it and
reads it back with pypdf; then prepares an evidence bundle the same way and has the check page
verify it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from audits.evidence import verify_bundle
from audits.tests.reports.conftest import World, world  # noqa: F401 (the fixture)
from audits.tests.test_celery_worker import worker  # noqa: F401 (a real worker in this process)

# The Persona helper and its fixture (sign-in with TOTP, step-up answered when asked).
from breakglass.tests.test_browser_lifecycle import Persona, personas  # noqa: F401
from ledger.models import LedgerEntry

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_an_auditor_prepares_a_sessions_pdf_and_a_bundle_and_checks_it(
    personas: Callable[[Any], Persona],  # noqa: F811
    auditor: Any,
    world: World,  # noqa: F811
    worker: Any,  # noqa: F811
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.PORTAL_EXPORT_DIR = tmp_path / "exports"
    settings.PORTAL_ORGANIZATION_NAME = "Example Payments Ltd"
    persona = personas(auditor)
    page = persona.page
    page.goto(f"{persona.base_url}/audit/reports/")

    page.locator("section", has=page.locator("#report-sessions")).get_by_role(
        "button", name="Prepare PDF"
    ).click()
    expect(page.get_by_role("heading", name="Sessions report, PDF")).to_be_visible()
    link = page.get_by_role("link", name="Download PDF")
    expect(link).to_be_visible(timeout=60_000)
    with page.expect_download() as pdf_download:
        link.click()
    pdf_path = tmp_path / "sessions.pdf"
    pdf_download.value.save_as(pdf_path)

    text = "\n".join(p.extract_text() for p in PdfReader(pdf_path).pages)
    assert "Break-glass sessions" in text
    assert "Example Payments Ltd" in text
    assert world.session.code in text.replace("\n", "")  # a narrow column may wrap it
    assert "Page 1 of" in text
    assert LedgerEntry.objects.filter(action="export.downloaded", actor_id=auditor.pk).count() == 1

    page.goto(f"{persona.base_url}/audit/reports/")
    today = datetime.now(UTC).date()
    page.fill("#bundle-since", (today - timedelta(days=1)).isoformat())
    page.fill("#bundle-until", today.isoformat())
    page.get_by_role("button", name="Prepare evidence bundle").click()
    expect(page.get_by_role("heading", name="Evidence bundle")).to_be_visible()
    link = page.get_by_role("link", name="Download ZIP")
    expect(link).to_be_visible(timeout=120_000)
    with page.expect_download() as zip_download:
        link.click()
    path = tmp_path / "bundle.zip"
    zip_download.value.save_as(path)
    # The job page (its SHA-256 is one long word) fits a 390 px phone without scrolling sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    assert verify_bundle(path).valid
    assert LedgerEntry.objects.filter(action="evidence.bundle_made", actor_id=auditor.pk).exists()
    page.goto(f"{persona.base_url}/audit/reports/")
    page.get_by_role("link", name="Check a bundle").click()
    page.set_input_files("input[name=bundle]", str(path))
    page.get_by_role("button", name="Check the bundle").click()
    expect(page.locator("#verification-result")).to_have_text("Valid")
    assert LedgerEntry.objects.filter(action="evidence.bundle_checked", actor_id=auditor.pk).exists()
    # The pages with new filters and export buttons fit a 390 px phone too.
    pages = (
        "/audit/reports/",
        "/audit/ledger/?category=decisions",
        "/audit/findings/?environment=production",
    )
    for path in pages:
        page.goto(f"{persona.base_url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
