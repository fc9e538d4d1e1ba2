"""Issue 8, item 1: emergency self-authorisation needs a second person within
``PORTAL_EMERGENCY_ACK_MINUTES``. An approver or custodian of the account (never the holder)
acknowledges once; the ledger records it and everyone is told."""

from __future__ import annotations

from typing import Any

import pytest

from breakglass import lifecycle, rules
from breakglass.models import AccessRequest, Notification
from breakglass.tests.lifecycle_helpers import active, make_request
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db

REASON = "Production is down and no approver answers the phone."


@pytest.fixture
def emergency(requester: Any, portal_account: Any) -> AccessRequest:
    request = make_request(requester, portal_account, emergency_grant=True)
    return lifecycle.access_request_self_authorise(request=request, requester=requester, reason=REASON)


@pytest.mark.parametrize("persona", ["approver", "custodian"])
def test_an_approver_or_custodian_acknowledges_an_emergency_session(
    request: Any, emergency: AccessRequest, persona: str
) -> None:
    person = request.getfixturevalue(persona)
    assert rules.refusal_to_acknowledge(person, emergency) is None

    lifecycle.access_request_acknowledge(request=emergency, actor=person, note="Called Rita; it is real.")

    emergency.refresh_from_db()
    assert emergency.emergency_acknowledged_by == person
    assert emergency.emergency_acknowledged_at is not None
    entry = LedgerEntry.objects.filter(action="access_request.emergency_acknowledged").get()
    assert entry.actor_id == person.pk
    assert entry.data["code"] == emergency.code
    assert Notification.objects.filter(event="request.emergency_acknowledged", request=emergency).exists()
    assert rules.refusal_to_acknowledge(person, emergency) is not None


def test_the_holder_does_not_acknowledge_their_own_emergency(
    requester: Any, emergency: AccessRequest
) -> None:
    assert rules.refusal_to_acknowledge(requester, emergency) is not None
    with pytest.raises(DomainError):
        lifecycle.access_request_acknowledge(request=emergency, actor=requester, note="")
    emergency.refresh_from_db()
    assert emergency.emergency_acknowledged_at is None


def test_nobody_outside_the_account_acknowledges(
    administrator: Any, auditor: Any, emergency: AccessRequest
) -> None:
    for person in (administrator, auditor):
        assert rules.refusal_to_acknowledge(person, emergency) is not None


def test_an_ordinary_session_takes_no_acknowledgement(
    requester: Any, approver: Any, portal_account: Any
) -> None:
    session = active(make_request(requester, portal_account), approver)
    assert rules.refusal_to_acknowledge(approver, session) is not None
