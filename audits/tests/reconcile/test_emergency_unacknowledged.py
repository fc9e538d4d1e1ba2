"""Issue 8, item 1: an emergency session nobody acknowledged within ``PORTAL_EMERGENCY_ACK_MINUTES``
is a critical finding at once: decided by ``wanted`` (pure), raised within a minute by beat."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from audits import tasks
from audits.choices import SEVERITY_BY_KIND, FindingKind, Severity
from audits.models import Finding
from audits.reconcile.wanted import MANAGED_KINDS, Wanted, dedupe_key, wanted_findings
from audits.reconcile.windows import ReconcileConfig
from audits.tests.findings_support import ACCOUNT_ID
from audits.tests.reconcile import memory
from audits.tests.reconcile.memory import T0, M
from breakglass import lifecycle
from breakglass.models import AccessRequest
from breakglass.tests.lifecycle_helpers import make_request

K = FindingKind
CONFIG = ReconcileConfig(
    grace_before=5 * M,
    grace_after=30 * M,
    rotation_overdue=timedelta(hours=24),
    emergency_review=timedelta(hours=24),
    emergency_ack=15 * M,
)


def wanted(session: AccessRequest, now: datetime) -> dict[str, Wanted]:
    return {
        key: want
        for key, want in wanted_findings(
            aws_account_id=ACCOUNT_ID,
            label="payments-prod (123456789012)",
            events=[],
            sessions=[session],
            credential=None,
            now=now,
            config=CONFIG,
        ).items()
        if want.kind == K.EMERGENCY_UNACKNOWLEDGED
    }


def test_the_kind_is_critical_and_managed() -> None:
    assert SEVERITY_BY_KIND[K.EMERGENCY_UNACKNOWLEDGED] == Severity.CRITICAL
    assert K.EMERGENCY_UNACKNOWLEDGED in MANAGED_KINDS


def test_an_unacknowledged_emergency_is_a_critical_finding_once_the_deadline_passes() -> None:
    emergency = memory.session(emergency=True)

    assert wanted(emergency, T0 + 14 * M) == {}
    late = wanted(emergency, T0 + 16 * M)

    want = late[dedupe_key(K.EMERGENCY_UNACKNOWLEDGED, emergency.code)]
    assert (want.severity, want.first_seen, want.session) == (Severity.CRITICAL, T0 + 15 * M, emergency)
    assert "15 minutes" in want.summary


def test_an_acknowledgement_in_time_raises_nothing_and_a_late_one_stays_a_finding() -> None:
    in_time = memory.session(emergency=True, emergency_acknowledged_at=T0 + 10 * M)
    too_late = memory.session(pk=2, emergency=True, emergency_acknowledged_at=T0 + 20 * M)

    assert wanted(in_time, T0 + timedelta(hours=2)) == {}
    late = wanted(too_late, T0 + timedelta(hours=2))
    assert late[dedupe_key(K.EMERGENCY_UNACKNOWLEDGED, too_late.code)].last_seen == T0 + 20 * M


def test_an_ordinary_session_needs_no_acknowledgement() -> None:
    assert wanted(memory.session(), T0 + timedelta(hours=2)) == {}


# --- Through the database and beat ---------------------------------------------------------------


def _emergency(requester: Any, account: Any, *, minutes_ago: int) -> AccessRequest:
    request = make_request(requester, account, emergency_grant=True, duration_minutes=120)
    session = lifecycle.access_request_self_authorise(
        request=request, requester=requester, reason="Production is down and no approver answers."
    )
    # Broken `minutes_ago` minutes ago: move the clock of the session back.
    moved = timezone.now() - timedelta(minutes=minutes_ago)
    AccessRequest.objects.filter(pk=session.pk).update(
        checked_out_at=moved, due_at=moved + timedelta(minutes=120)
    )
    session.refresh_from_db()
    return session


@pytest.mark.django_db
def test_beat_raises_the_finding_within_a_minute_of_the_deadline(
    requester: Any, account: Any, settings: Any
) -> None:
    settings.PORTAL_EMERGENCY_ACK_MINUTES = 15
    session = _emergency(requester, account, minutes_ago=16)
    assert not Finding.objects.filter(kind=K.EMERGENCY_UNACKNOWLEDGED).exists()

    assert tasks.reconcile_unacknowledged_emergencies() == [ACCOUNT_ID]

    finding = Finding.objects.get(kind=K.EMERGENCY_UNACKNOWLEDGED)
    assert (finding.severity, finding.session) == (Severity.CRITICAL, session)
    # Once raised, the next ticks leave the account alone.
    assert tasks.reconcile_unacknowledged_emergencies() == []


@pytest.mark.django_db
def test_beat_leaves_acknowledged_and_recent_emergencies_alone(
    requester: Any, approver: Any, account: Any, settings: Any
) -> None:
    settings.PORTAL_EMERGENCY_ACK_MINUTES = 15
    session = _emergency(requester, account, minutes_ago=5)
    assert tasks.reconcile_unacknowledged_emergencies() == []

    lifecycle.access_request_acknowledge(request=session, actor=approver, note="Seen.")
    # Acknowledged five minutes after the glass was broken, half an hour ago.
    now = timezone.now()
    AccessRequest.objects.filter(pk=session.pk).update(
        checked_out_at=now - timedelta(minutes=30), emergency_acknowledged_at=now - timedelta(minutes=25)
    )
    assert tasks.reconcile_unacknowledged_emergencies() == []
    assert not Finding.objects.filter(kind=K.EMERGENCY_UNACKNOWLEDGED).exists()
