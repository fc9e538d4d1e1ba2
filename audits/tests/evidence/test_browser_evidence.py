"""An auditor, in headless Chromium, downloads an evidence bundle from the Reports page and has the
check page verify it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from audits.evidence import verify_bundle

# The Persona helper and its fixture (sign-in with TOTP, step-up answered when asked).
from breakglass.tests.test_browser_lifecycle import Persona, personas  # noqa: F401
from ledger.models import LedgerEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_auditor_downloads_a_bundle_and_checks_it(
    personas: Callable[[Any], Persona],  # noqa: F811
    auditor: Any,
    tmp_path: Path,
) -> None:
    persona = personas(auditor)
    page = persona.page
    today = datetime.now(UTC).date()
    page.goto(f"{persona.base_url}/audit/reports/")
    page.fill("#bundle-since", (today - timedelta(days=1)).isoformat())
    page.fill("#bundle-until", today.isoformat())

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download evidence bundle").click()
    path = tmp_path / "bundle.zip"
    download_info.value.save_as(path)

    assert verify_bundle(path).valid
    assert LedgerEntry.objects.filter(action="evidence.bundle_made", actor_id=auditor.pk).exists()
    page.get_by_role("link", name="Check a bundle").click()
    page.set_input_files("input[name=bundle]", str(path))
    page.get_by_role("button", name="Check the bundle").click()
    expect(page.locator("#verification-result")).to_have_text("Valid")
