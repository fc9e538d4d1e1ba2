"""Approver reachability through the services: asked on schedule, confirmed by the approver, lapsed
when silent (the evidence side's findings are tested in audits/tests/test_drill_findings.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from breakglass import reachability
from breakglass.models import Notification, ReachabilityCheck
from breakglass.notifications.messages import REACHABILITY_EVENT
from breakglass.signals import approver_unreachable
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_every_approver_is_asked_once_per_interval(
    account: Any, approver: Any, second_approver: Any, custodian: Any, settings: Any
) -> None:
    settings.PORTAL_REACHABILITY_INTERVAL_DAYS = 90
    settings.PORTAL_REACHABILITY_DEADLINE_DAYS = 7
    account.approvers.add(second_approver)
    now = timezone.now()
    assert reachability.reachability_ask_due(now=now) == 2
    checks = ReachabilityCheck.objects.all()
    assert {check.approver for check in checks} == {approver, second_approver}  # not the custodian
    assert all(check.deadline == now + timedelta(days=7) for check in checks)
    mails = Notification.objects.filter(event=REACHABILITY_EVENT)
    assert set(mails.values_list("recipient__username", flat=True)) == {
        approver.username,
        second_approver.username,
    }
    assert "/inventory/reachability/" in mails.first().body  # type: ignore[union-attr]
    assert LedgerEntry.objects.filter(action="reachability.asked").count() == 2
    # Open checks are not asked again, nor confirmed ones within the interval.
    assert reachability.reachability_ask_due(now=now + timedelta(days=1)) == 0
    reachability.reachability_confirm(check=checks.get(approver=approver), approver=approver)
    assert reachability.reachability_ask_due(now=now + timedelta(days=89)) == 0
    assert reachability.reachability_ask_due(now=now + timedelta(days=91)) == 1


def test_an_approver_without_a_role_is_not_asked(account: Any, make_persona: Any) -> None:
    account.approvers.add(make_persona("gone.approver", mfa=False))
    assert reachability.reachability_ask_due() == 1  # only alan


def test_only_the_approver_asked_confirms(account: Any, approver: Any, administrator: Any) -> None:
    check = reachability.reachability_ask(approver=approver)
    with pytest.raises(ValidationError, match="Only the approver asked"):
        reachability.reachability_confirm(check=check, approver=administrator)
    confirmed = reachability.reachability_confirm(check=check, approver=approver)
    assert confirmed.confirmed_at is not None
    entry = LedgerEntry.objects.get(action="reachability.confirmed")
    assert entry.data["late"] is False
    assert entry.actor_id == approver.pk
    with pytest.raises(ValidationError, match="already confirmed"):
        reachability.reachability_confirm(check=check, approver=approver)


def test_a_silent_approver_lapses_and_the_evidence_side_is_told(
    account: Any, approver: Any, second_approver: Any
) -> None:
    account.approvers.add(second_approver)
    account.approval_quorum = 2
    account.save()
    silent = reachability.reachability_ask(approver=approver)
    heard: list[dict[str, Any]] = []

    def listen(sender: Any, **kwargs: Any) -> None:
        heard.append(kwargs)

    approver_unreachable.connect(listen, dispatch_uid="test-listen")
    try:
        assert reachability.reachability_lapse_due(now=silent.deadline - timedelta(minutes=1)) == 0
        assert reachability.reachability_lapse_due(now=silent.deadline) == 1
        assert reachability.reachability_lapse_due(now=silent.deadline + timedelta(hours=1)) == 0
    finally:
        approver_unreachable.disconnect(dispatch_uid="test-listen")
    silent.refresh_from_db()
    assert silent.lapsed_at == silent.deadline
    (told,) = heard
    assert told["check"] == silent
    assert told["accounts"] == [(account, 1)]  # anna alone is left: under the quorum of 2
    entry = LedgerEntry.objects.get(action="reachability.lapsed")
    assert entry.data["accounts"] == {account.account_id: {"reachable": 1, "quorum": 2}}
    # Late is still recorded, and makes the approver reachable again.
    reachability.reachability_confirm(check=silent, approver=approver)
    assert reachability.unreachable_approver_ids() == set()
    assert LedgerEntry.objects.get(action="reachability.confirmed").data["late"] is True
