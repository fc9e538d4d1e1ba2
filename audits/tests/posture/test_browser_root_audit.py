"""In headless Chromium: an administrator starts the AssumeRoot audit from the Root posture page (with
step-up), watches its progress move on while a worker audits the accounts, and reads each account's
line; at phone and desk width."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from audits.assume_root.models import RootAuditRun, RootAuditRunStatus
from audits.posture import root_audit
from audits.tests.posture_support import RootPostureStore, set_contacts

# The Persona helper and its fixture (sign-in with TOTP, step-up answered when asked).
from breakglass.tests.test_browser_lifecycle import Persona, personas  # noqa: F401
from ledger.models import LedgerEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LEAKY, CLEAN = "222222222222", "333333333333"


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} is {width}px wide at {viewport}px"


def test_an_administrator_audits_every_centralised_account_and_watches_it_progress(
    personas: Callable[[Any], Persona],  # noqa: F811
    administrator: Any,
    posture_aws: RootPostureStore,
    make_account: Callable[..., Any],
    settings: Any,
    monkeypatch: Any,
) -> None:
    settings.PORTAL_ROOT_AUDIT_INTERVAL_MS = 0
    make_account(
        LEAKY, name="payments-prod-with-a-rather-long-account-name", centralised=True, hardware=False
    )
    make_account(CLEAN, name="data-prod", centralised=True, hardware=False)
    for account in (LEAKY, CLEAN):
        set_contacts(account, "BILLING", "OPERATIONS", "SECURITY")
    posture_aws.root(LEAKY).access_keys = 2
    posture_aws.root(CLEAN).password = False
    posture_aws.root(CLEAN).mfa = False
    handed: list[int] = []  # no worker here: the test runs the task itself, once the page is polling
    monkeypatch.setattr(root_audit, "_hand_over", handed.append)

    persona = personas(administrator)
    page = persona.page
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{persona.base_url}/audit/posture/")
    no_sideways_scroll(page)
    page.get_by_role("button", name="Audit root credentials now").click()
    persona.confirm_identity_if_asked()  # fresh from signing in, so usually not asked again

    expect(page.locator("h1")).to_have_text("Root credentials audit")
    expect(page.locator("#audit-status")).to_have_text("Queued")
    expect(page.locator("#audit-count")).to_have_text("0 of 2 accounts")
    no_sideways_scroll(page)
    run = RootAuditRun.objects.get()
    assert handed == [run.pk]

    root_audit.root_audit_run(run.pk)  # the worker

    expect(page.locator("#audit-status")).to_have_text("Done", timeout=10_000)
    expect(page.locator("#audit-count")).to_have_text("2 of 2 accounts")
    results = page.locator("#audit-results")
    expect(results).to_contain_text("payments-prod-with-a-rather-long-account-name")
    expect(results).to_contain_text("Failing: root_access_keys")
    expect(results).to_contain_text("Every check passed.")
    no_sideways_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    no_sideways_scroll(page)

    page.get_by_role("link", name="← Root posture").click()
    expect(page.locator("#root-audit-latest")).to_contain_text("done")
    expect(page.locator("#control-iam4")).to_contain_text("payments-prod-with-a-rather-long-account-name")
    assert RootAuditRun.objects.get().status == RootAuditRunStatus.DONE
    assert LedgerEntry.objects.filter(action="root_audit.started", actor_id=administrator.pk).count() == 1
    assert LedgerEntry.objects.filter(action="root_audit.finished").count() == 1
