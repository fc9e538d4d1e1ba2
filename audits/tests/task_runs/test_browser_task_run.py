"""An approved "delete root credentials" AssumeRoot task end to end in headless Chromium (issue 12):
the requester files it at 390 px, an approver approves, the requester checks out and presses
"Run task" behind a TOTP step-up that names the task and the account; the portal deletes the member
root's credentials through moto's AssumeRoot and shows the result; nothing overflows sideways."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from audits.tests.assume_root.conftest import MEMBER
from audits.tests.posture_support import RootPostureStore
from breakglass.models import AccessRequest, RootTaskRun
from breakglass.tests.test_browser_lifecycle import STEP_UP_SECONDS, Persona
from ledger.models import LedgerEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at {PHONE['width']}px"


@pytest.fixture
def phone_personas(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[Any], Persona]]:
    contexts = []

    def open_as(user: Any) -> Persona:
        context = browser.new_context()
        contexts.append(context)
        persona = Persona(user=user, page=context.new_page(), base_url=live_server.url)
        persona.sign_in()  # at desktop width, where "Sign out" is not folded under "Menu"
        persona.page.set_viewport_size(PHONE)
        return persona

    yield open_as
    for context in contexts:
        context.close()


def test_an_approved_delete_credentials_task_runs_from_the_button(
    phone_personas: Callable[[Any], Persona],
    root_aws: RootPostureStore,
    settings: Any,
    member: Any,
    requester: Any,
    approver: Any,
    second_approver: Any,
    tmp_path: Path,
) -> None:
    shots = Path(os.environ.get("PHONE_SCREENSHOT_DIR") or tmp_path)
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = STEP_UP_SECONDS
    member.approval_quorum = 1
    member.save()
    root = root_aws.root(MEMBER)
    root.access_keys = 1
    rita, alan = phone_personas(requester), phone_personas(approver)

    # The requester files the task at 390 px: the AssumeRoot explanation shows, no bucket field.
    page = rita.page
    page.goto(f"{rita.base_url}/inventory/requests/new/")
    page.select_option("#id_account", label=f"data-lake ({MEMBER})")
    page.select_option("#id_root_task", value="assume_root_delete_credentials")
    expect(page.locator('[data-hint-for="assume_root_any"]')).to_be_visible()
    expect(page.locator('[data-field-for="assume_root_s3_unlock"]')).to_be_hidden()
    page.fill("#id_justification", "Member account joined the organization with a root password; remove it.")
    page.fill("#id_duration_minutes", "30")
    no_sideways_scroll(page)
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator(".request-state .status")).to_have_text("Pending approval")
    request = AccessRequest.objects.get(requester=requester)

    # The approver approves (TOTP step-up when the sign-in's freshness has lapsed).
    page = alan.open(request)
    page.fill("#id_comment", "New member account; its root must have no credentials.")
    alan.before_step_up()
    page.locator("button[value=approve]").click()
    alan.confirm_identity_if_asked()
    expect(page.get_by_text(f"You approved {request.code}.")).to_be_visible()

    # The requester checks out: no device to wait for, the next step names the button.
    page = rita.open(request)
    rita.before_step_up()
    page.get_by_role("button", name="Check out").click()
    rita.confirm_identity_if_asked()
    expect(page.locator(".request-state .status")).to_have_text("Checked out")
    expect(page.locator(".next-step")).to_contain_text("Run task")
    expect(page.get_by_role("button", name="Reveal the root password")).to_have_count(0)
    no_sideways_scroll(page)

    # "Run task" once the sign-in's freshness has lapsed: the step-up page names task and account.
    time.sleep(max(0.0, rita.stepped_up_at + STEP_UP_SECONDS + 1 - time.time()))
    page.get_by_role("button", name="Run task").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/reauthenticate/"))
    expect(page.locator("body")).to_contain_text(
        f"Run “AssumeRoot: delete root user credentials” for {request.code} on data-lake ({MEMBER})"
    )
    no_sideways_scroll(page)
    rita.confirm_identity_if_asked()

    # The result page: what was deleted, the key, no secret.
    expect(page.locator(".next-step")).to_contain_text("Succeeded")
    expect(page.locator(".task-found")).to_contain_text("Login profile deleted")
    expect(page.locator(".task-found")).to_contain_text(f"AKIAR{MEMBER}001")
    run = RootTaskRun.objects.get(request=request)
    expect(page.locator("body")).to_contain_text(run.access_key_id)
    for secret in root_aws.issued_secrets:
        assert secret not in page.content()
    no_sideways_scroll(page)
    page.screenshot(path=str(shots / "task-result-390.png"), full_page=True)
    assert rita.reauthentications[-1] == "totp"
    assert root.password is False
    assert root.deleted_keys == {f"AKIAR{MEMBER}001"}

    # The request page: checked in, a review next, the run and its result in the evidence.
    page = rita.open(request)
    expect(page.locator(".request-state .status")).to_have_text("Returned, review pending")
    expect(page.locator("#task-run")).to_contain_text("succeeded")
    expect(page.locator(".timeline")).to_contain_text("AssumeRoot task succeeded")
    expect(page.locator(".timeline")).to_contain_text("Checked out → Returned, review pending")
    no_sideways_scroll(page)
    page.screenshot(path=str(shots / "task-request-390.png"), full_page=True)
    assert {"root_task.started", "root_task.succeeded"} <= set(
        LedgerEntry.objects.filter(target_id=str(request.uuid)).values_list("action", flat=True)
    )
