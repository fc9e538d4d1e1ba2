"""The administrator's new pages on a phone (390 px, headless Chromium, the folded Menu first):
Administration, people and roles (add, then remove with confirmation and step-up), a person's page
with a tel: link, ingestion sources (add, disable with confirmation), the ledger's verification
panel (start a verification, its result appears) and the profile page. No page scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

import ledger.tasks  # noqa: F401 (registers the task, so the eager app runs it in place)
from audits.models import IngestionSource
from ledger.models import ChainVerification
from portal.celery import app as celery_app
from portal.tests.test_browser_phone import demo, phone, shots  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_celery(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.PORTAL_LEDGER_ANCHOR = str(tmp_path / "anchor")
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


def test_an_administrator_manages_people_sources_and_the_ledger_on_a_phone(
    phone: Any,  # noqa: F811
    eager_celery: None,
) -> None:
    ada = phone("ada.admin")
    page = ada.page

    # The folded menu leads to Administration.
    page.get_by_role("button", name="Menu").click()
    page.locator("#main-menu").get_by_role("link", name="Administration").click()
    ada.check(page, "administration")

    # People and roles: add Rita to the approvers (within the sign-in's fresh second factor).
    page.get_by_role("link", name="People and roles").click()
    ada.check(page, "people")
    expect(page.locator("#role-custodian")).to_contain_text("carl.custodian")
    expect(page.locator('#role-custodian a[href="tel:+15550101"]')).to_have_text("+1 555 0101")
    page.fill("#add-approver", "rita.requester")
    page.get_by_role("button", name="Add to approvers").click()
    expect(page.get_by_text("is now approver")).to_be_visible()
    assert Group.objects.get(name="Approver").user_set.filter(username="rita.requester").exists()

    # A person's page names their accounts and links their number.
    page.locator("#role-custodian").get_by_role("link", name="Carl Custodian (carl.custodian)").click()
    ada.check(page, "person")
    expect(page.locator('a[href="tel:+15550101"]')).to_be_visible()

    # Removing asks for a fresh second factor, then a confirmation page naming the person.
    ada.wait_out_step_up()
    page.goto(f"{ada.base_url}/people/")
    page.locator("#role-approver li", has_text="rita.requester").get_by_role("link", name="Remove…").click()
    ada.step_up(confirms="Remove rita.requester from the role Approver")
    ada.check(page, "remove-confirm")
    expect(page.locator("h1")).to_contain_text("Rita Requester (rita.requester)")
    page.get_by_role("button", name="Remove from the role").click()
    expect(page.get_by_text("is no longer approver")).to_be_visible()
    assert not Group.objects.get(name="Approver").user_set.filter(username="rita.requester").exists()

    # Ingestion sources: add one, then disable it through its confirmation page.
    page.goto(f"{ada.base_url}/administration/")
    page.get_by_role("link", name="Ingestion sources").click()
    ada.check(page, "sources")
    page.get_by_role("link", name="Add a source").click()
    ada.check(page, "source-form")
    page.fill("#id_name", "org-trail")
    page.select_option("#id_kind", "s3")
    page.fill("#id_config", '{"bucket": "org-trail", "prefix": "AWSLogs"}')
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main table")).to_contain_text("org-trail")
    ada.check(page, "sources-added")
    page.get_by_role("link", name="Disable…").click()
    ada.check(page, "source-disable-confirm")
    expect(page.locator(".confirm-consequence")).to_contain_text("Beat stops reading it")
    page.get_by_role("button", name="Disable the source").click()
    expect(page.locator("main table")).to_contain_text("Disabled")
    assert not IngestionSource.objects.get(name="org-trail").enabled

    # The ledger: no verification yet, then one started here, whose result appears.
    page.goto(f"{ada.base_url}/audit/ledger/")
    expect(page.locator("#chain-verification")).to_contain_text("Chain not verified yet")
    ada.check(page, "ledger")
    page.get_by_role("button", name="Verify the chain now").click()
    expect(page.locator("#chain-verification")).to_contain_text("Chain verified")
    expect(page.locator("#chain-verification")).to_contain_text("intact")
    ada.check(page, "ledger-verified")
    assert ChainVerification.objects.get().intact is True

    # Her own profile: the number others see.
    page.goto(f"{ada.base_url}/people/me/")
    ada.check(page, "profile")
    page.fill("#id_phone", "+1 555 0199")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved your phone number.")).to_be_visible()
    ada.check(page, "profile-saved")
