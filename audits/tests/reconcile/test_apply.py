"""Applying findings: resolved when they no longer apply, reopened when they apply again, alerted
exactly once, kept in step with the inventory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from audits.choices import FindingKind, FindingStatus, Severity
from audits.models import Finding
from audits.reconcile import reconcile
from audits.tests.findings_support import (
    ACCOUNT_ID,
    UNKNOWN_ACCOUNT_ID,
    checkout,
    finding_of_kind,
    hours_ago,
    ingest_records,
    root_call,
    root_login,
)
from breakglass.models import Notification, NotificationChannel
from breakglass.notifications.messages import ALERT_EVENT
from breakglass.tests.factories import AwsAccountFactory
from breakglass.tests.lifecycle_helpers import active, make_request
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

M = timedelta(minutes=1)


def test_a_check_out_that_comes_to_cover_an_event_resolves_its_finding_through_the_transition_signal(
    tmp_path: Path,
    requester: Any,
    account: Any,
    approver: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # The holder started a minute before the check-out was recorded (inside the grace before).
    ingest_records(tmp_path, [root_login(when=timezone.now() - M, event_id="early-start")])
    unapproved = finding_of_kind(FindingKind.UNAPPROVED_ROOT_USAGE)

    with django_capture_on_commit_callbacks(execute=True):
        session = active(make_request(requester, account), approver)

    unapproved.refresh_from_db()
    assert unapproved.status == FindingStatus.RESOLVED
    assert (
        unapproved.triage_note
        == f"Resolved automatically: matched to session {session.code} on re-evaluation."
    )
    assert unapproved.triaged_by is None
    entry = LedgerEntry.objects.get(action="finding.resolved")
    assert entry.data["sessions"] == [session.code]
    assert Finding.objects.filter(pk=unapproved.pk).exists()  # never deleted
    assert unapproved.events.get().event_id == "early-start"  # kept as evidence


def test_a_finding_resolved_automatically_is_reopened_when_it_applies_again(
    tmp_path: Path, requester: Any, account: Any, approver: Any, settings: Any
) -> None:
    out = hours_ago(3)
    checkout(requester, account, approver, out_at=out, checked_in_at=out + 10 * M)
    settings.PORTAL_RECONCILE_GRACE_AFTER_MINUTES = 10
    ingest_records(tmp_path, [root_call(when=out + 25 * M)])
    settings.PORTAL_RECONCILE_GRACE_AFTER_MINUTES = 30
    reconcile(account_ids=[ACCOUNT_ID])
    assert finding_of_kind(FindingKind.UNAPPROVED_ROOT_USAGE).status == FindingStatus.RESOLVED

    settings.PORTAL_RECONCILE_GRACE_AFTER_MINUTES = 10
    reconcile(account_ids=[ACCOUNT_ID])

    reopened = finding_of_kind(FindingKind.UNAPPROVED_ROOT_USAGE)
    assert reopened.status == FindingStatus.OPEN
    assert LedgerEntry.objects.filter(action="finding.reopened").count() == 1


def test_an_unknown_account_raises_a_finding_without_account_and_alerts_the_global_channel(
    tmp_path: Path, account: Any
) -> None:
    security = NotificationChannel.objects.create(kind="email", name="Security", target="sec@example.org")
    NotificationChannel.objects.create(
        account=account, kind="email", name="Payments", target="pay@example.org"
    )

    ingest_records(tmp_path, [root_login(when=hours_ago(1), account=UNKNOWN_ACCOUNT_ID)])

    found = finding_of_kind(FindingKind.UNAPPROVED_ROOT_USAGE)
    assert found.account is None
    assert found.aws_account_id == UNKNOWN_ACCOUNT_ID
    assert "not in the portal's inventory" in found.summary
    assert found.alerted_at is not None
    alerts = list(Notification.objects.filter(event=ALERT_EVENT))
    assert [(n.channel, n.recipient, n.request) for n in alerts] == [(security, None, None)]
    assert found.code in alerts[0].subject
    assert found.summary in alerts[0].body


def test_a_critical_finding_alerts_the_accounts_people_and_channels_once(
    tmp_path: Path, account: Any, approver: Any, custodian: Any
) -> None:
    channel = NotificationChannel.objects.create(
        account=account, kind="webhook", name="Payments hook", target="https://hooks.example.org/x"
    )
    NotificationChannel.objects.create(kind="email", name="Security", target="sec@example.org")
    when = hours_ago(3)

    ingest_records(tmp_path, [root_call(when=when)])
    reconcile()
    ingest_records(tmp_path, [root_call(when=when + M)])  # same day: the same finding grows

    alerts = Notification.objects.filter(event=ALERT_EVENT)
    assert sorted((n.recipient_id or 0, n.channel_id or 0) for n in alerts) == sorted(
        [(approver.pk, 0), (custodian.pk, 0), (0, channel.pk)]
    )
    webhook = alerts.get(channel=channel)
    assert '"event": "finding.alert"' in webhook.body
    assert finding_of_kind(FindingKind.UNAPPROVED_ROOT_USAGE).events.count() == 2


def test_medium_and_high_findings_do_not_alert(tmp_path: Path, account: Any) -> None:
    ingest_records(tmp_path, [root_login(when=hours_ago(2), success=False)])

    assert Finding.objects.get().severity == Severity.MEDIUM
    assert not Notification.objects.filter(event=ALERT_EVENT).exists()


def test_an_account_added_to_the_inventory_later_is_set_on_its_findings(tmp_path: Path) -> None:
    ingest_records(tmp_path, [root_call(when=hours_ago(2), account="555566667777")])
    added = AwsAccountFactory(account_id="555566667777", name="forgotten-sandbox")

    reconcile(account_ids=["555566667777"])

    found = Finding.objects.get()
    assert found.account == added
    assert "forgotten-sandbox (555566667777)" in found.summary
