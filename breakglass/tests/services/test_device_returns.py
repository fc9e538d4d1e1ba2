"""Custody you can see (issue 11, item 5): a device given back at check-in is in the safe only once a
custodian confirms it (service, rule, timeline), and one not back in time becomes a finding."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audits.models import Finding
from breakglass import custody, rules, sweeps, tasks
from breakglass.models import AccessRequest, DeviceReturn
from breakglass.request_selectors import request_for, request_timeline
from breakglass.tests.lifecycle_helpers import active, make_request
from ledger.models import LedgerEntry
from portal.errors import DomainError
from portal.people import person_label

pytestmark = pytest.mark.django_db


@pytest.fixture
def returned_session(
    requester: Any, account: Any, approver: Any, custodian: Any, device: Any
) -> AccessRequest:
    request = active(make_request(requester, account), approver)
    custody.access_request_hand_over(request=request, custodian=custodian, devices=[device])
    custody.access_request_check_in(request=request, actor=requester, work_done="Closed it as planned.")
    request.refresh_from_db()
    return request


def test_a_returned_device_cannot_be_handed_over_until_a_custodian_confirms_it(
    returned_session: AccessRequest, requester: Any, account: Any, approver: Any, custodian: Any, device: Any
) -> None:
    device.refresh_from_db()
    assert device.custody_state == "returning"
    back = returned_session.device_returns.get()
    assert (back.returned_by, back.confirmed_at) == (requester, None)

    custody.device_return_confirm(request=returned_session, custodian=custodian, device=device)

    device.refresh_from_db()
    back.refresh_from_db()
    assert device.custody_state == "in_safe"
    assert back.confirmed_by == custodian
    entry = LedgerEntry.objects.get(action="mfa_device.return_confirmed")
    assert entry.data["device"] == device.serial_number
    assert entry.data["custody_state"] == "in_safe"
    with pytest.raises(DomainError, match="not waiting for a return confirmation"):
        custody.device_return_confirm(request=returned_session, custodian=custodian, device=device)


def test_the_holder_never_confirms_her_own_return(
    returned_session: AccessRequest, requester: Any, approver: Any, device: Any
) -> None:
    assert rules.refusal_to_confirm_device_return(requester, returned_session) == (
        "The holder cannot confirm their own return; a custodian must."
    )
    assert "Only a custodian" in (rules.refusal_to_confirm_device_return(approver, returned_session) or "")
    with pytest.raises(DomainError, match="cannot confirm their own return"):
        custody.device_return_confirm(request=returned_session, custodian=requester, device=device)
    assert DeviceReturn.objects.get().confirmed_at is None


def test_nothing_is_confirmed_before_check_in(
    requester: Any, account: Any, approver: Any, custodian: Any, device: Any
) -> None:
    request = active(make_request(requester, account), approver)
    assert (
        rules.refusal_to_confirm_device_return(custodian, request)
        == f"{request.code} has not been checked in yet."
    )


def test_the_queryset_form_of_the_rule_agrees_with_the_predicate(
    returned_session: AccessRequest, requester: Any, custodian: Any, approver: Any
) -> None:
    for person in (requester, custodian, approver):
        listed = DeviceReturn.objects.filter(rules.device_returns_to_confirm_q(person)).exists()
        assert listed == (rules.refusal_to_confirm_device_return(person, returned_session) is None)


def test_the_confirmation_is_on_the_request_timeline(
    returned_session: AccessRequest, custodian: Any, device: Any
) -> None:
    custody.device_return_confirm(request=returned_session, custodian=custodian, device=device)
    timeline = request_timeline(request_for(user=custodian, uuid=returned_session.uuid))
    line = next(event for event in timeline if event.kind == "device_return")
    assert (line.who, line.summary, line.note) == (
        person_label(custodian),
        "Confirmed an MFA device back in the safe",
        str(device),
    )


def test_a_return_nobody_confirms_in_time_becomes_one_finding(
    returned_session: AccessRequest, device: Any, settings: Any
) -> None:
    settings.PORTAL_DEVICE_RETURN_HOURS = 24
    assert sweeps.devices_not_returned() == []
    later = timezone.now() + timedelta(hours=25)

    late = sweeps.devices_not_returned(now=later)
    sweeps.devices_not_returned(now=later)  # the beat runs again: still one finding

    assert [(item.device, item.unconfirmed) for item in late] == [(device, True)]
    finding = Finding.objects.get(kind="mfa_device_not_returned")
    assert finding.severity == "high"
    assert finding.session_id == returned_session.pk
    assert "no custodian of payments-prod has confirmed" in finding.summary
    assert LedgerEntry.objects.filter(action="finding.raised").count() == 1


def test_a_device_still_held_long_after_the_session_was_due_becomes_a_finding(
    requester: Any, account: Any, approver: Any, custodian: Any, device: Any
) -> None:
    request = active(make_request(requester, account), approver)
    custody.access_request_hand_over(request=request, custodian=custodian, devices=[device])
    AccessRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() - timedelta(hours=30))

    assert tasks.flag_unreturned_devices() == 1

    finding = Finding.objects.get(kind="mfa_device_not_returned")
    assert "is still with rita.requester" in finding.summary


def test_an_administrator_cannot_put_a_returned_device_in_the_safe_by_editing_it(
    returned_session: AccessRequest, administrator: Any, device: Any
) -> None:
    from breakglass import services

    device.refresh_from_db()
    with pytest.raises(DomainError, match="a custodian confirms it is in the safe"):
        services.mfa_device_update(
            actor=administrator,
            device=device,
            label=device.label,
            storage_location="",
            custody_state="in_safe",
        )
    # It may still be marked lost when it never arrived.
    services.mfa_device_update(
        actor=administrator, device=device, label=device.label, storage_location="", custody_state="lost"
    )
    device.refresh_from_db()
    assert device.custody_state == "lost"
