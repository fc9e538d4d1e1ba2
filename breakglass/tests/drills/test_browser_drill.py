"""Drills and reachability in headless Chromium.

A drill end to end: an administrator schedules it (step-up), the custodian checks out, "signs in as
root" (a real root ConsoleLogin record from ../shared/fixtures/cloudtrail, moved to now and uploaded
through the portal's upload page), checks in; the record is ingested, matched to the drill, and the
"drill observed" alert delivered (e-mail, locmem); the drill page shows the result and the measured
delays, at desktop width and at 390 px. And an approver confirms they can be reached, through a
real TOTP re-authentication."""

from __future__ import annotations

import gzip
import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from audits.choices import FindingKind
from audits.models import Finding, RootEvent
from breakglass import reachability, services
from breakglass.choices import DrillResult
from breakglass.models import Drill, Notification
from breakglass.notifications.messages import DRILL_OBSERVED_EVENT
from breakglass.tests.factories import AwsAccountFactory

# The Persona helper and its fixture (sign-in with TOTP, step-up answered when asked).
from breakglass.tests.test_browser_lifecycle import (  # noqa: F401
    STEP_UP_SECONDS,
    Persona,
    personas,
    short_step_up,
)
from ledger.models import LedgerEntry
from portal.policy import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURE = Path(__file__).resolve().parents[3].parent / "shared/fixtures/cloudtrail/events"
ROOT_LOGIN = "panther__root-login-success-nomfa.json"
ACCOUNT_ID = "123456789012"


@pytest.fixture(autouse=True)
def upload_dir(settings: Any, tmp_path: Path) -> None:
    settings.PORTAL_UPLOAD_DIR = tmp_path / "uploads"


def drill_sign_in_file(tmp_path: Path) -> Path:
    """The fixture's successful root console sign-in, as the drill's: now, in our account, with the
    MFA device the custodian was handed (a drill signs in the way a real break-glass does)."""
    record = json.loads((FIXTURE / ROOT_LOGIN).read_text())["event"]
    record["eventTime"] = timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    record["eventID"] = str(uuid.uuid4())
    record["recipientAccountId"] = ACCOUNT_ID
    record["userIdentity"]["accountId"] = ACCOUNT_ID
    record["userIdentity"]["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:root"
    record["additionalEventData"]["MFAUsed"] = "Yes"
    path = tmp_path / f"{ACCOUNT_ID}_CloudTrail_us-east-1_drill.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"Records": [record]}).encode()))
    return path


def no_sideways_scroll(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} scrolls sideways at 390 px ({width} px)"


def test_a_drill_runs_end_to_end_with_its_alert(
    personas: Callable[[Any], Persona],  # noqa: F811
    eager_celery: None,
    tmp_path: Path,
    mailoutbox: list[Any],
    administrator: Any,
    approver: Any,
    custodian: Any,
    make_persona: Any,
) -> None:
    second_custodian = make_persona("cora.custodian", Role.CUSTODIAN)
    account = AwsAccountFactory(name="payments-prod", account_id=ACCOUNT_ID, approval_quorum=1)
    account.approvers.set([approver])
    account.custodians.set([custodian, second_custodian])
    services.root_credential_store_in_portal(
        actor=administrator, account=account, password="Initial-Root-Password-0001"
    )
    ada, carl = personas(administrator), personas(custodian)

    # The drills page shows the account never drilled; the administrator schedules one (step-up).
    page = ada.page
    page.goto(f"{ada.base_url}/inventory/drills/")
    card = page.locator(f'.drill-account[data-account="{ACCOUNT_ID}"]')
    expect(card).to_contain_text("never")
    card.get_by_role("link", name="Schedule a drill").click()
    ada.confirm_identity_if_asked()
    page.select_option("#id_performer", value=str(custodian.pk))
    page.fill("#id_duration_minutes", "30")
    page.fill("#id_note", "Bridge: +1 555 0100.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("ul.messages")).to_contain_text("scheduled and announced")
    expect(page.locator(".drill-state")).to_have_text("Scheduled")
    drill = Drill.objects.get()
    # Announced to everyone concerned, by e-mail.
    assert any("DRILL scheduled" in mail.subject for mail in mailoutbox)

    # The custodian checks out the drill session (step-up), and checks in after signing in as root.
    page = carl.page
    page.goto(f"{carl.base_url}/inventory/drills/{drill.uuid}/")
    page.get_by_role("link", name=drill.request.code).click()
    expect(page.locator(".drill-badge")).to_have_text("DRILL: not real use")
    carl.before_step_up()
    page.get_by_role("button", name="Check out").click()
    carl.confirm_identity_if_asked()
    expect(page.locator(".request-state .status")).to_have_text("Checked out")
    sign_in_file = drill_sign_in_file(tmp_path)
    page.fill("#id_work_done", "Signed in as root with the key, signed out at once.")
    page.get_by_role("button", name="Check in").click()
    expect(page.locator(".request-state .status")).to_have_text("Returned, rotation pending")

    # CloudTrail's record arrives: the administrator uploads it; a worker ingests and reconciles it.
    page = ada.page
    page.goto(f"{ada.base_url}/audit/runs/upload/")
    page.set_input_files("input[name=log_file]", str(sign_in_file))
    page.get_by_role("button", name="Upload and ingest").click()
    expect(page.locator("ul.messages")).to_contain_text("uploaded")

    event = RootEvent.objects.get()
    assert event.session_id == drill.request_id
    assert not Finding.objects.filter(kind=FindingKind.UNAPPROVED_ROOT_USAGE).exists()
    alerts = Notification.objects.filter(event=DRILL_OBSERVED_EVENT)
    assert alerts.filter(status="sent").exists()
    assert any("DRILL observed" in mail.subject for mail in mailoutbox)
    drill.refresh_from_db()
    assert drill.result == DrillResult.PASSED
    assert drill.ingest_delay is not None
    assert drill.alert_delay is not None

    # The drill page shows the result and both measured delays.
    page.goto(f"{ada.base_url}/inventory/drills/{drill.uuid}/")
    expect(page.locator(".drill-state")).to_have_text("Passed: the alarm chain worked")
    expect(page.locator(".drill-ingest-delay")).to_have_text(re.compile(r"^(\d+\.\d s|\d+ s|\d+ min \d+ s)$"))
    expect(page.locator(".drill-alert-delay")).to_have_text(drill.alert_delay_text)
    expect(page.locator(".drill-facts")).to_contain_text(event.event_id)
    no_sideways_scroll(page)
    page.goto(f"{ada.base_url}/inventory/drills/")
    expect(page.locator(f'.drill-account[data-account="{ACCOUNT_ID}"]')).to_contain_text("up to date")
    no_sideways_scroll(page)
    page.goto(f"{ada.base_url}/inventory/accounts/{account.uuid}/")
    expect(page.locator(".account-drill")).to_contain_text("Passed")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{ada.base_url}/inventory/drills/{drill.uuid}/")
    page.screenshot(path="/tmp/drill.png", full_page=True)

    actions = set(LedgerEntry.objects.values_list("action", flat=True))
    assert {"drill.scheduled", "drill.observed", "drill.alert_delivered"} <= actions


def test_an_approver_confirms_they_can_be_reached_with_a_fresh_code(
    personas: Callable[[Any], Persona],  # noqa: F811
    short_step_up: None,  # noqa: F811
    approver: Any,
) -> None:
    account = AwsAccountFactory(name="payments-prod", account_id=ACCOUNT_ID, approval_quorum=1)
    account.approvers.set([approver])
    check = reachability.reachability_ask(approver=approver)
    alan = personas(approver)
    # The sign-in's freshness lapses first: confirming must ask for a new code.
    time.sleep(max(0.0, alan.stepped_up_at + STEP_UP_SECONDS + 1 - time.time()))

    page = alan.page
    page.goto(f"{alan.base_url}/inventory/reachability/")
    no_sideways_scroll(page)
    page.get_by_role("button", name="I can be reached: confirm with MFA").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/reauthenticate/"))
    alan.confirm_identity_if_asked()
    expect(page.locator("ul.messages")).to_contain_text("recorded as reachable")
    expect(page.locator(".reachability-check")).to_contain_text("confirmed")
    assert alan.reauthentications == ["totp"]
    check.refresh_from_db()
    assert check.confirmed_at is not None
    assert LedgerEntry.objects.filter(action="reachability.confirmed", actor_id=approver.pk).exists()
