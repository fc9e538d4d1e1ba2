"""The ledger page's filters (shared with the ledger report): free text, request id, category
(notification deliveries apart from decisions), and each entry linked to the page it names."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audits.reports import REPORTS, ReportFilter
from ledger import services
from ledger.links import target_path

pytestmark = pytest.mark.django_db

URL = reverse("ledger:ledger_list")
REQUEST_UUID = str(uuid.uuid4())
FINDING_UUID = str(uuid.uuid4())


@pytest.fixture
def entries() -> None:
    services.record(
        actor=None,
        action="request.approved",
        target_type="breakglass.AccessRequest",
        target_id=REQUEST_UUID,
        target_repr="BG-1 payments-prod",
    )
    services.record(
        actor=None,
        action="notification.sent",
        target_type="breakglass.Notification",
        target_id="7",
        target_repr="e-mail to approvers",
    )
    services.record(
        actor=None,
        action="finding.triaged",
        target_type="audits.Finding",
        target_id=FINDING_UUID,
        target_repr="F-9 unapproved root usage",
    )
    services.record(
        actor=None, action="login.failed", target_type="login", target_id="x", target_repr="someone"
    )


def shown(client: Client, **query: str) -> str:
    return client.get(URL, query).content.decode()


def test_free_text_finds_actions_and_target_names(client: Client, auditor: Any, entries: None) -> None:
    client.force_login(auditor)

    page = shown(client, search="payments-PROD")

    assert "BG-1 payments-prod" in page
    assert "F-9 unapproved" not in page
    assert "F-9 unapproved" in shown(client, search=FINDING_UUID)
    assert "No entry matches these filters." in shown(client, search="nothing like it")


def test_deliveries_are_shown_apart_from_decisions(client: Client, auditor: Any, entries: None) -> None:
    client.force_login(auditor)

    decisions = shown(client, category="decisions")
    deliveries = shown(client, category="deliveries")

    assert "request.approved" in decisions
    assert "notification.sent" not in decisions
    assert "notification.sent" in deliveries
    assert "request.approved" not in deliveries


def test_entries_link_to_the_page_of_what_they_name(client: Client, auditor: Any, entries: None) -> None:
    client.force_login(auditor)

    page = shown(client)

    request_page = reverse("breakglass:request_detail", kwargs={"uuid": REQUEST_UUID})
    finding_page = reverse("audits:finding_detail", kwargs={"uuid": FINDING_UUID})
    assert f'<a href="{request_page}">BG-1 payments-prod</a>' in page
    assert f'<a href="{finding_page}">F-9 unapproved root usage</a>' in page
    assert "someone" in page  # a sign-in has no page: shown, not linked


def test_a_target_id_that_is_not_a_uuid_has_no_link() -> None:
    entry = services.record(actor=None, action="x", target_type="audits.Finding", target_id="not-a-uuid")

    assert target_path(entry) is None


def test_the_request_id_filter_and_its_links(client: Client, auditor: Any) -> None:
    services.record(actor=None, action="test.one", target_type="t", target_id="1")
    client.force_login(auditor)

    page = shown(client, request_id="no-such-request")

    assert "No entry matches these filters." in page
    assert 'name="request_id"' in page


def test_the_report_shares_the_page_filters_and_carries_links(auditor: Any, entries: None) -> None:
    rows = list(
        REPORTS["ledger"].rows(user=auditor, filters=ReportFilter(search="payments", category="decisions"))
    )

    assert [row["action"] for row in rows] == ["request.approved"]
    assert rows[0]["link"].endswith(reverse("breakglass:request_detail", kwargs={"uuid": REQUEST_UUID}))
    assert rows[0]["link"].startswith("http")
    json.dumps(rows[0])  # plain JSON values


def test_the_page_keeps_its_filters_on_the_pdf_button(client: Client, auditor: Any, entries: None) -> None:
    client.force_login(auditor)

    page = shown(client, search="payments", category="decisions")

    assert reverse("audits:export_job_start", args=["ledger", "pdf"]) in page
    assert '<input type="hidden" name="search" value="payments">' in page
    assert '<input type="hidden" name="category" value="decisions">' in page
