"""What people read: subjects, bodies, webhook payloads and links, and never a secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from breakglass.models import AccessRequest, NotificationChannel
from breakglass.notifications import messages
from breakglass.notifications.messages import Wording

pytestmark = pytest.mark.django_db


def test_every_event_the_lifecycle_uses_is_known() -> None:
    assert set(messages.EVENTS) == {
        "request.created",
        "request.decision",
        "request.approved",
        "request.denied",
        "request.cancelled",
        "request.expired",
        "request.checked_out",
        "request.checked_in",
        "request.task_started",
        "request.task_ran",
        "request.rotation_confirmed",
        "request.closed",
        "request.overdue",
        "request.task_overdue",
        "request.emergency",
        "request.emergency_acknowledged",
        "request.revoked",
        "drill.scheduled",
    }


def test_an_unknown_event_is_refused(make_request: Callable[..., AccessRequest]) -> None:
    with pytest.raises(ValueError, match=r"request\.exploded"):
        messages.event_wording(event="request.exploded", request=make_request(), actor=None, note="")


def test_the_email_names_the_request_account_task_requester_status_and_link(
    make_request: Callable[..., AccessRequest], requester: Any, settings: Any
) -> None:
    settings.PORTAL_BASE_URL = "https://breakglass.example.org/"
    request = make_request()

    wording = messages.event_wording(event="request.created", request=request, actor=requester, note="")

    assert wording.subject == f"[Break-glass] {request.code} needs approval: payments-prod (123456789012)"
    body = wording.body
    assert request.code in body
    assert "payments-prod (123456789012)" in body
    assert "Close the AWS account" in body
    assert f"{requester.get_full_name()} (rita.requester)" in body
    assert "Pending approval" in body
    assert "CHG-1234" in body
    assert f"https://breakglass.example.org/inventory/requests/{request.uuid}/" in body
    assert "&#x27;" not in body
    assert "&amp;" not in body


def test_the_link_is_the_request_page_under_the_base_url(
    make_request: Callable[..., AccessRequest], settings: Any
) -> None:
    settings.PORTAL_BASE_URL = "https://breakglass.example.org"
    request = make_request()
    assert (
        messages.request_link(request) == f"https://breakglass.example.org/inventory/requests/{request.uuid}/"
    )


def test_the_link_falls_back_to_the_local_portal_without_a_base_url(
    make_request: Callable[..., AccessRequest], settings: Any
) -> None:
    del settings.PORTAL_BASE_URL
    request = make_request()
    assert messages.request_link(request) == f"http://127.0.0.1:8000/inventory/requests/{request.uuid}/"


def test_a_decision_carries_the_approvers_comment_unescaped(
    make_request: Callable[..., AccessRequest], approver: Any
) -> None:
    wording = messages.event_wording(
        event="request.decision",
        request=make_request(),
        actor=approver,
        note="deny: use AssumeRoot <for> this & that",
    )

    assert "decision by" in wording.subject
    assert "Note: deny: use AssumeRoot <for> this & that" in wording.body


def test_a_subject_never_holds_a_newline(
    make_request: Callable[..., AccessRequest], requester: Any, account: Any
) -> None:
    account.name = "evil\r\nBcc: everyone@example.org"
    account.save()
    wording = messages.event_wording(
        event="request.created", request=make_request(), actor=requester, note=""
    )
    assert "\n" not in wording.subject
    assert "\r" not in wording.subject


def test_an_emergency_message_says_so_first(
    make_request: Callable[..., AccessRequest], requester: Any
) -> None:
    wording = messages.event_wording(
        event="request.emergency", request=make_request(emergency=True), actor=requester, note="db down"
    )
    assert "EMERGENCY" in wording.subject
    assert wording.body.startswith("EMERGENCY ACCESS")
    assert "Note: db down" in wording.body


def test_the_webhook_payload_is_the_event_as_it_was(
    make_request: Callable[..., AccessRequest], requester: Any
) -> None:
    request = make_request(emergency=True)

    wording = messages.event_wording(
        event="request.emergency", request=request, actor=requester, note="db down"
    )

    payload = wording.payload
    assert payload["event"] == "request.emergency"
    assert payload["note"] == "db down"
    assert payload["actor"] == "rita.requester"
    assert payload["subject"] == wording.subject
    assert payload["text"] == wording.body
    assert payload["request"] == {
        "code": request.code,
        "uuid": str(request.uuid),
        "account_id": "123456789012",
        "account_name": "payments-prod",
        "status": "pending",
        "root_task": "close_account",
        "requester": "rita.requester",
        "emergency": True,
        "url": f"http://127.0.0.1:8000/inventory/requests/{request.uuid}/",
    }


def test_a_json_webhook_channel_stores_the_payload_and_others_the_text() -> None:
    wording = Wording(subject="s", body="the text", payload={"event": "request.created", "note": "é"})
    webhook = NotificationChannel(kind="webhook", name="siem", target="https://siem.example.org/in")
    slack = NotificationChannel(kind="slack", name="#sec", target="https://hooks.slack.com/x")

    assert json.loads(messages.channel_body(webhook, wording)) == wording.payload
    assert messages.channel_body(slack, wording) == "the text"


def test_an_alert_links_the_finding_and_asks_for_triage() -> None:
    finding = {"code": "F-0001", "url": "https://breakglass.example.org/audit/findings/x/"}

    wording = messages.alert_wording(
        finding_summary="Root signed in without approval.\n", subject="F-0001 Root used", finding=finding
    )

    assert wording.subject == "[Break-glass] ALERT F-0001 Root used"
    assert wording.body.startswith("Root signed in without approval.\n\nOpen the finding: https://")
    assert "Triage it in the portal" in wording.body
    assert wording.payload["event"] == messages.ALERT_EVENT
    assert wording.payload["finding"] == finding
    assert wording.payload["request"] is None


def test_a_channel_test_message_links_the_channels_page(
    administrator: Any, account: Any, settings: Any
) -> None:
    settings.PORTAL_BASE_URL = "https://breakglass.example.org"
    channel = NotificationChannel(account=account, kind="email", name="team", target="team@example.org")

    wording = messages.channel_test_wording(channel=channel, actor=administrator)

    assert wording.subject == "[Break-glass] Test message to channel team"
    assert "This is a test message" in wording.body
    assert "Channel: team (" in wording.body
    assert wording.body.rstrip().endswith("https://breakglass.example.org/inventory/channels/")
    assert wording.payload["event"] == messages.TEST_EVENT


def test_a_long_line_is_cut_with_an_ellipsis() -> None:
    assert messages.one_line("a\n b\tc") == "a b c"
    cut = messages.one_line("x" * 400, limit=10)
    assert cut == "x" * 9 + "…"
