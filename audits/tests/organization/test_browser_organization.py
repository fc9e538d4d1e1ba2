"""In headless Chromium: an administrator presses "Sync now" on the organization page, confirms with
the second factor, and reads what the sync changed; the page fits a 390 px phone and a desktop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from audits.choices import SyncTrigger
from audits.organization import service
from audits.organization.service import organization_sync
from audits.tasks import sync_organization_run
from breakglass.models import AwsAccount

# The Persona helper and its fixture (sign-in with TOTP, step-up answered when asked).
from breakglass.tests.test_browser_lifecycle import Persona, personas  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no horizontal scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def too_wide(page: Page) -> list[str]:
    """The elements reaching past the window's right edge, to name the culprit when it fails."""
    return list(
        page.evaluate(
            "[...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".slice(0, 8).map(e => e.tagName + '.' + e.className)"
        )
    )


def test_an_administrator_syncs_on_demand_and_reads_the_changes(
    personas: Callable[[Any], Persona],  # noqa: F811
    administrator: Any,
    org: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The worker, here: the queued run is executed as soon as it is handed over.
    monkeypatch.setattr(service, "_hand_to_worker", sync_organization_run)
    ada = personas(administrator)
    page = ada.page
    page.goto(f"{ada.base_url}/audit/organization/")
    expect(page.locator("#last-sync")).to_contain_text("has not been synced yet")

    ada.before_step_up()
    page.get_by_role("button", name="Sync now").click()
    ada.confirm_identity_if_asked()

    expect(page.get_by_role("heading", name="Organization sync")).to_be_visible()
    expect(page.locator("table.org-changes")).to_contain_text("Root/Workloads/Prod")
    expect(page.locator("table.org-changes tbody tr")).to_have_count(5)
    assert AwsAccount.objects.filter(governed=False).count() == 5

    page.get_by_role("link", name="← Organization").click()
    expect(page.locator("#ungoverned")).to_contain_text("Ungoverned accounts (5)")
    expect(page.locator("#last-sync")).to_contain_text("On demand, by an administrator")


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 900)])
def test_the_organization_page_fits_the_window(
    personas: Callable[[Any], Persona],  # noqa: F811
    auditor: Any,
    org: dict[str, str],
    width: int,
    height: int,
) -> None:
    organization_sync(trigger=SyncTrigger.COMMAND)
    # Long names and paths are what would push a narrow page sideways.
    AwsAccount.objects.filter(account_id=org["Payments"]).update(
        ou_path="Root/" + "/".join(["AVeryLongOrganizationalUnitNameWithoutSpaces"] * 4)
    )
    organization_sync(trigger=SyncTrigger.COMMAND)
    audrey = personas(auditor)
    page = audrey.page
    page.set_viewport_size({"width": width, "height": height})

    page.goto(f"{audrey.base_url}/audit/organization/")
    expect(page.locator("#last-sync")).to_contain_text("Moved to another OU")
    page.screenshot(path=f"/tmp/organization-page-{width}.png", full_page=True)
    assert overflow(page) == 0, f"{overflow(page)} px too wide at {width} px: {too_wide(page)}"

    page.locator("table.org-syncs a").first.click()
    expect(page.get_by_role("heading", name="Organization sync")).to_be_visible()
    assert overflow(page) == 0

    account = AwsAccount.objects.get(account_id=org["Payments"])
    page.goto(f"{audrey.base_url}/inventory/accounts/{account.uuid}/")
    expect(page.locator("#ungoverned")).to_be_visible()
    assert overflow(page) == 0
    page.screenshot(path=f"/tmp/organization-{width}.png", full_page=True)
