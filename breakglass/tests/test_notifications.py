"""Who hears about each event, what they read, and the outbox: nothing leaves before the commit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from breakglass import notifications, secrets
from breakglass.models import AccessRequest, Approval, Notification, NotificationChannel, RootCredential
from breakglass.tests.factories import AwsAccountFactory, UserFactory
from ledger.models import LedgerEntry
from portal.celery import app as celery_app
from portal.policy import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_request(requester: Any, account: Any) -> Callable[..., AccessRequest]:
    counter = iter(range(1, 1000))

    def make(**fields: Any) -> AccessRequest:
        values: dict[str, Any] = {
            "code": f"BG-{next(counter):04d}",
            "requester": requester,
            "account": account,
            "root_task": "close_account",
            "justification": "The account is being retired after the migration to the new org.",
            "ticket_reference": "CHG-1234",
            "starts_at": timezone.now(),
            "duration_minutes": 60,
        }
        values.update(fields)
        return AccessRequest.objects.create(**values)

    return make


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run Celery tasks in the calling thread, as a worker would after the commit."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


def recipients(rows: list[Notification]) -> list[str]:
    return [row.recipient.username for row in rows if row.recipient is not None]


def channel_names(rows: list[Notification]) -> list[str]:
    return [row.channel.name for row in rows if row.channel is not None]


@pytest.fixture
def channels_of(account: Any, other_account: Any) -> dict[str, NotificationChannel]:
    return {
        "account": NotificationChannel.objects.create(
            account=account, kind="email", name="payments-team", target="payments@example.org"
        ),
        "disabled": NotificationChannel.objects.create(
            account=account, kind="email", name="old-list", target="old@example.org", enabled=False
        ),
        "other": NotificationChannel.objects.create(
            account=other_account, kind="email", name="web-team", target="web@example.org"
        ),
        "global": NotificationChannel.objects.create(
            account=None, kind="email", name="security-team", target="soc@example.org"
        ),
    }


# --- Audiences ------------------------------------------------------------------------------


def test_a_new_request_notifies_the_approvers_and_the_account_channels_but_not_the_requester(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    second_approver: Any,
    custodian: Any,
    account: Any,
    channels_of: dict[str, NotificationChannel],
) -> None:
    # Even listed as an approver, the requester does not hear about their own request.
    account.approvers.add(second_approver, requester)
    request = make_request()

    rows = notifications.queue(event="request.created", request=request, actor=requester)

    assert recipients(rows) == ["alan.approver", "anna.approver"]
    assert channel_names(rows) == ["payments-team"]
    assert all(row.event == "request.created" and row.request == request for row in rows)
    assert Notification.objects.count() == 3


def test_an_emergency_reaches_everyone_including_administrators_and_global_channels(
    make_persona: Callable[..., Any],
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    custodian: Any,
    administrator: Any,
    auditor: Any,
    outsider: Any,
    channels_of: dict[str, NotificationChannel],
) -> None:
    retired = make_persona("ivan.inactive", Role.ADMINISTRATOR)
    retired.is_active = False
    retired.save()
    request = make_request(emergency=True)

    rows = notifications.queue(
        event="request.emergency", request=request, actor=requester, note="production database down"
    )

    # The person who broke the glass is told too: a stolen session must not stay quiet.
    assert recipients(rows) == ["rita.requester", "alan.approver", "carl.custodian", "ada.admin"]
    assert sorted(channel_names(rows)) == ["payments-team", "security-team"]


def test_a_revocation_reaches_everyone_as_an_emergency_does(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    custodian: Any,
    administrator: Any,
    channels_of: dict[str, NotificationChannel],
) -> None:
    rows = notifications.queue(
        event="request.revoked", request=make_request(), actor=administrator, note="left the company"
    )
    assert recipients(rows) == ["rita.requester", "alan.approver", "carl.custodian", "ada.admin"]
    assert sorted(channel_names(rows)) == ["payments-team", "security-team"]


def test_a_person_with_several_roles_gets_one_message_per_event(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    custodian: Any,
    account: Any,
) -> None:
    # Alan approves, keeps custody and administers the portal: three reasons, one email.
    approver.groups.add(
        *custodian.groups.all(), Group.objects.get_or_create(name=Role.ADMINISTRATOR.value)[0]
    )
    account.custodians.add(approver)

    rows = notifications.queue(event="request.emergency", request=make_request(), actor=requester)

    assert recipients(rows).count("alan.approver") == 1
    assert recipients(rows) == ["rita.requester", "alan.approver", "carl.custodian"]


def test_the_actor_is_not_told_about_their_own_action(
    make_request: Callable[..., AccessRequest],
    make_persona: Callable[..., Any],
    custodian: Any,
    account: Any,
    channels_of: dict[str, NotificationChannel],
) -> None:
    second_custodian = make_persona("cleo.custodian", Role.CUSTODIAN)
    account.custodians.add(second_custodian)

    rows = notifications.queue(event="request.checked_in", request=make_request(), actor=custodian)

    assert recipients(rows) == ["cleo.custodian"]
    assert channel_names(rows) == ["payments-team"]


def test_a_cancellation_reaches_only_the_approvers_who_have_not_decided(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    second_approver: Any,
    account: Any,
) -> None:
    account.approvers.add(second_approver)
    request = make_request()
    Approval.objects.create(
        request=request, approver=approver, requester=requester, decision="approve", comment="ok"
    )

    rows = notifications.queue(event="request.cancelled", request=request, actor=requester)

    assert recipients(rows) == ["anna.approver"]


def test_people_without_an_email_address_are_skipped(
    make_request: Callable[..., AccessRequest], requester: Any, approver: Any, account: Any
) -> None:
    silent = UserFactory(username="no.mail", email="")
    account.approvers.add(silent)

    rows = notifications.queue(event="request.created", request=make_request(), actor=requester)

    assert recipients(rows) == ["alan.approver"]


# Expected people for each event when the requester acts (None: the system acts).
AUDIENCES = [
    ("request.created", "requester", ["alan.approver"], ["payments-team"]),
    ("request.decision", "approver", ["rita.requester"], []),
    ("request.approved", "approver", ["rita.requester"], []),
    ("request.denied", "approver", ["rita.requester"], []),
    ("request.cancelled", "requester", ["alan.approver"], []),
    ("request.expired", None, ["rita.requester"], []),
    ("request.checked_out", "requester", ["carl.custodian"], ["payments-team"]),
    ("request.checked_in", "requester", ["carl.custodian"], ["payments-team"]),
    ("request.rotation_confirmed", "administrator", ["rita.requester", "carl.custodian"], []),
    ("request.closed", "custodian", ["rita.requester"], []),
    ("request.overdue", None, ["rita.requester", "carl.custodian"], ["payments-team"]),
    (
        "request.emergency",
        "requester",
        ["rita.requester", "alan.approver", "carl.custodian", "ada.admin"],
        ["payments-team", "security-team"],
    ),
    (
        "request.revoked",
        "administrator",
        ["rita.requester", "alan.approver", "carl.custodian", "ada.admin"],
        ["payments-team", "security-team"],
    ),
]


@pytest.mark.parametrize(("event", "actor_name", "people", "channel_list"), AUDIENCES)
def test_each_event_reaches_its_audience(
    request: pytest.FixtureRequest,
    make_request: Callable[..., AccessRequest],
    administrator: Any,
    channels_of: dict[str, NotificationChannel],
    event: str,
    actor_name: str | None,
    people: list[str],
    channel_list: list[str],
) -> None:
    actor = request.getfixturevalue(actor_name) if actor_name else None

    rows = notifications.queue(event=event, request=make_request(), actor=actor, note="a note")

    assert recipients(rows) == people
    assert sorted(channel_names(rows)) == channel_list


def test_an_unknown_event_is_refused(make_request: Callable[..., AccessRequest]) -> None:
    with pytest.raises(ValueError, match=r"request\.exploded"):
        notifications.queue(event="request.exploded", request=make_request())
    assert Notification.objects.count() == 0


def test_every_event_the_lifecycle_uses_is_known() -> None:
    assert set(notifications.EVENTS) == {
        "request.created",
        "request.decision",
        "request.approved",
        "request.denied",
        "request.cancelled",
        "request.expired",
        "request.checked_out",
        "request.checked_in",
        "request.rotation_confirmed",
        "request.closed",
        "request.overdue",
        "request.emergency",
        "request.revoked",
    }


# --- Content --------------------------------------------------------------------------------


def test_the_email_names_the_request_account_task_requester_status_and_link(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    settings: Any,
    mailoutbox: list[Any],
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.PORTAL_BASE_URL = "https://breakglass.example.org/"
    request = make_request()

    with django_capture_on_commit_callbacks(execute=True):
        (row,) = notifications.queue(event="request.created", request=request, actor=requester)

    (mail,) = mailoutbox
    assert mail.to == [approver.email]
    assert mail.subject == f"[Break-glass] {request.code} needs approval: payments-prod (123456789012)"
    body = mail.body
    assert request.code in body
    assert "payments-prod (123456789012)" in body
    assert "Close the AWS account" in body
    assert f"{requester.get_full_name()} (rita.requester)" in body
    assert "Pending approval" in body
    assert "CHG-1234" in body
    assert f"https://breakglass.example.org/inventory/requests/{request.uuid}/" in body
    assert "&#x27;" not in body
    assert "&amp;" not in body
    row.refresh_from_db()
    assert row.status == "sent"
    assert row.attempts == 1
    assert row.sent_at is not None
    entry = LedgerEntry.objects.get(action="notification.sent")
    assert entry.data == {"event": "request.created", "recipient": "alan.approver", "attempts": 1}
    assert entry.target_id == str(request.uuid)


def test_the_link_falls_back_to_the_local_portal_without_a_base_url(
    make_request: Callable[..., AccessRequest], settings: Any
) -> None:
    del settings.PORTAL_BASE_URL
    request = make_request()
    assert notifications.request_link(request) == f"http://127.0.0.1:8000/inventory/requests/{request.uuid}/"


def test_a_decision_email_carries_the_approvers_comment(
    make_request: Callable[..., AccessRequest],
    approver: Any,
    mailoutbox: list[Any],
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notifications.queue(
            event="request.decision",
            request=make_request(),
            actor=approver,
            note="deny: use AssumeRoot <for> this & that",
        )

    (mail,) = mailoutbox
    assert "decision by" in mail.subject
    assert "Note: deny: use AssumeRoot <for> this & that" in mail.body


def test_a_subject_never_holds_a_newline(
    make_request: Callable[..., AccessRequest], requester: Any, account: Any
) -> None:
    account.name = "evil\r\nBcc: everyone@example.org"
    account.save()
    rows = notifications.queue(event="request.created", request=make_request(), actor=requester)
    assert all("\n" not in row.subject and "\r" not in row.subject for row in rows)


def test_an_emergency_message_says_so_first(
    make_request: Callable[..., AccessRequest], requester: Any
) -> None:
    (row, *_) = notifications.queue(
        event="request.emergency", request=make_request(emergency=True), actor=requester, note="db down"
    )
    assert "EMERGENCY" in row.subject
    assert row.body.startswith("EMERGENCY ACCESS")
    assert "Note: db down" in row.body


def test_a_json_webhook_row_keeps_the_payload_as_it_was_at_the_event(
    make_request: Callable[..., AccessRequest], requester: Any, administrator: Any, account: Any
) -> None:
    channel, _ = notifications.notification_channel_create(
        actor=administrator,
        account=account,
        kind="webhook",
        name="siem",
        target="https://siem.example.org/in",
    )
    request = make_request(emergency=True)

    rows = notifications.queue(event="request.emergency", request=request, actor=requester, note="db down")

    (row,) = [row for row in rows if row.channel == channel]
    payload = json.loads(row.body)
    assert payload["event"] == "request.emergency"
    assert payload["note"] == "db down"
    assert payload["actor"] == "rita.requester"
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


def test_no_secret_ends_up_in_a_notification(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    administrator: Any,
    account: Any,
) -> None:
    credential = RootCredential(account=account, storage="portal")
    secrets.seal_root_password(credential=credential, plaintext="Root-Password-Do-Not-Leak-42")
    credential.save()
    _slack, _ = notifications.notification_channel_create(
        actor=administrator,
        account=account,
        kind="slack",
        name="#sec",
        target="https://hooks.slack.com/services/T0/B0/tokenDoNotLeak",
    )
    _, signing_secret = notifications.notification_channel_create(
        actor=administrator, account=None, kind="webhook", name="siem", target="https://siem.example.org/in"
    )

    rows = notifications.queue(event="request.emergency", request=make_request(), actor=requester)

    assert len(rows) >= 5
    for row in rows:
        text = row.subject + row.body
        assert "Root-Password-Do-Not-Leak-42" not in text
        assert "tokenDoNotLeak" not in text
        assert signing_secret not in text
        assert "siem.example.org" not in text


# --- The outbox -----------------------------------------------------------------------------


def test_nothing_is_queued_or_sent_when_the_transaction_rolls_back(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    mailoutbox: list[Any],
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from breakglass.tasks import deliver_notification

    handed_over: list[Any] = []
    monkeypatch.setattr(deliver_notification, "delay", lambda *args: handed_over.append(args))
    request = make_request()

    def change_that_fails() -> None:
        with transaction.atomic():
            notifications.queue(event="request.created", request=request, actor=requester)
            assert Notification.objects.count() == 1
            raise RuntimeError("the transition failed after queueing")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError, match="the transition failed"),
    ):
        change_that_fails()

    assert callbacks == []
    assert handed_over == []
    assert Notification.objects.count() == 0
    assert mailoutbox == []


def test_delivery_is_handed_to_celery_only_after_the_commit(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from breakglass.tasks import deliver_notification

    handed_over: list[int] = []
    monkeypatch.setattr(deliver_notification, "delay", lambda pk: handed_over.append(pk))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (row,) = notifications.queue(event="request.created", request=make_request(), actor=requester)
        assert handed_over == []

    assert handed_over == []
    for callback in callbacks:
        callback()
    assert handed_over == [row.pk]


def test_a_broker_that_is_down_at_commit_leaves_the_notification_queued_for_the_sweep(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from breakglass.tasks import deliver_notification

    def broker_down(*args: Any) -> None:
        raise ConnectionRefusedError("redis://:hunter2@redis:6379/0 refused")

    monkeypatch.setattr(deliver_notification, "delay", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        (row,) = notifications.queue(event="request.created", request=make_request(), actor=requester)

    row.refresh_from_db()
    assert row.status == "queued"
    assert "requeue_stale_notifications will retry" in caplog.text
    assert "hunter2" not in caplog.text


def test_an_old_request_still_gets_its_notifications(
    make_request: Callable[..., AccessRequest], requester: Any
) -> None:
    # Sanity check of the factory: a request made days ago is no different.
    request = make_request(starts_at=timezone.now() - timedelta(days=3))
    assert notifications.queue(event="request.expired", request=request) != []


def test_a_request_in_another_account_does_not_reach_this_accounts_people(
    make_request: Callable[..., AccessRequest], requester: Any, approver: Any
) -> None:
    elsewhere = AwsAccountFactory(name="elsewhere")
    rows = notifications.queue(
        event="request.created", request=make_request(account=elsewhere), actor=requester
    )
    assert rows == []
