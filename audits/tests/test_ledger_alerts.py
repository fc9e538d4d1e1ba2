"""A broken ledger (``ledger.signals.chain_broken``) is a critical finding and an alert, once."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from audits.choices import FindingKind, FindingStatus, Severity
from audits.ledger_alerts import dedupe_key, ledger_chain_broken
from audits.models import Finding
from breakglass.models import Notification, NotificationChannel
from breakglass.notifications.messages import ALERT_EVENT
from ledger import services, tasks
from ledger.models import LedgerEntry
from ledger.signals import chain_broken

pytestmark = pytest.mark.django_db


@pytest.fixture
def security_channel() -> NotificationChannel:
    return NotificationChannel.objects.create(kind="email", name="Security", target="sec@example.org")


def test_a_broken_chain_raises_a_critical_finding_and_alerts_once(security_channel: Any) -> None:
    chain_broken.send(sender=None, sequence=7, reason="entry #7 was edited")
    chain_broken.send(sender=None, sequence=7, reason="entry #7 was edited")

    finding = Finding.objects.get(kind=FindingKind.LEDGER_CHAIN_BROKEN)
    assert finding.severity == Severity.CRITICAL
    assert finding.status == FindingStatus.OPEN
    assert finding.dedupe_key == dedupe_key(7) == "ledger_chain_broken:7"
    assert "entry #7 was edited" in finding.summary
    assert finding.alerted_at is not None
    alerts = list(Notification.objects.filter(event=ALERT_EVENT))
    assert [n.channel for n in alerts] == [security_channel]
    assert finding.code in alerts[0].subject
    assert LedgerEntry.objects.filter(action="finding.raised", target_id=str(finding.uuid)).count() == 1


def test_the_periodic_verification_of_a_broken_ledger_ends_in_a_finding(
    security_channel: Any, settings: Any, tmp_path: Any
) -> None:
    settings.PORTAL_LEDGER_ANCHOR = str(tmp_path / "anchor")
    settings.PORTAL_LEDGER_CHECKPOINT_GRACE_SECONDS = 0
    services.record(actor=None, action="test.never_checkpointed")

    assert tasks.verify_ledger() is False

    finding = Finding.objects.get(kind=FindingKind.LEDGER_CHAIN_BROKEN)
    assert "no checkpoint found" in finding.summary
    assert Notification.objects.filter(event=ALERT_EVENT).exists()


def test_auditors_see_the_finding_in_the_list_and_on_its_page(client: Any, auditor: Any) -> None:
    finding = ledger_chain_broken(None, sequence=3, reason="entry #3 was edited")
    client.force_login(auditor)

    listed = client.get(reverse("audits:finding_list"))
    page = client.get(reverse("audits:finding_detail", kwargs={"uuid": finding.uuid}))

    assert listed.status_code == page.status_code == 200
    assert finding.code in listed.content.decode()
    assert "entry #3 was edited" in page.content.decode()
