"""Every action tried in every status: the allowed ones succeed, the others are refused with an
error naming the status (and nothing changes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from breakglass import custody, lifecycle, sweeps
from breakglass.models import AccessRequest
from breakglass.tests.lifecycle_helpers import active, approve, make_request, returned
from portal.errors import DomainError

pytestmark = pytest.mark.django_db

STATUSES = [
    "pending",
    "approved",
    "active",
    "returned",
    "closed",
    "denied",
    "cancelled",
    "expired",
    "revoked",
]

ALLOWED: dict[str, set[str]] = {
    "pending": {"approve", "deny", "cancel", "self_authorise", "revoke"},
    "approved": {"cancel", "check_out", "revoke"},
    "active": {"check_in", "revoke"},
    "returned": {"confirm_rotation"},
    "closed": set(),
    "denied": set(),
    "cancelled": set(),
    "expired": set(),
    "revoked": set(),
}


@pytest.fixture
def people(requester: Any, approver: Any, custodian: Any, administrator: Any) -> dict[str, Any]:
    return {
        "requester": requester,
        "approver": approver,
        "custodian": custodian,
        "administrator": administrator,
    }


def in_status(status: str, account: Any, p: dict[str, Any]) -> AccessRequest:
    request = make_request(p["requester"], account, emergency_grant=True)
    if status == "approved":
        approve(request, p["approver"])
    elif status == "active":
        active(request, p["approver"])
    elif status == "returned":
        returned(request, p["approver"])
    elif status == "closed":
        returned(request, p["approver"])
        custody.access_request_confirm_rotation(
            request=request, actor=p["custodian"], review_note="Reviewed, in scope."
        )
    elif status == "denied":
        lifecycle.access_request_decide(
            request=request, approver=p["approver"], decision="deny", comment="No."
        )
    elif status == "cancelled":
        lifecycle.access_request_cancel(request=request, requester=p["requester"])
    elif status == "expired":
        AccessRequest.objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(days=2))
        sweeps.access_requests_expire()
    elif status == "revoked":
        lifecycle.access_request_revoke(
            request=request, administrator=p["administrator"], reason="Not needed."
        )
    request.refresh_from_db()
    assert request.status == status
    return request


ACTIONS: dict[str, Callable[[AccessRequest, dict[str, Any]], Any]] = {
    "approve": lambda r, p: lifecycle.access_request_decide(
        request=r, approver=p["approver"], decision="approve", comment="ok"
    ),
    "deny": lambda r, p: lifecycle.access_request_decide(
        request=r, approver=p["approver"], decision="deny", comment="no"
    ),
    "cancel": lambda r, p: lifecycle.access_request_cancel(request=r, requester=p["requester"]),
    "self_authorise": lambda r, p: lifecycle.access_request_self_authorise(
        request=r, requester=p["requester"], reason="Approvers unreachable, production is down."
    ),
    "check_out": lambda r, p: custody.access_request_check_out(request=r, requester=p["requester"]),
    "check_in": lambda r, p: custody.access_request_check_in(
        request=r, actor=p["requester"], work_done="Did the planned task only."
    ),
    "confirm_rotation": lambda r, p: custody.access_request_confirm_rotation(
        request=r, actor=p["custodian"], review_note="Reviewed the session."
    ),
    "revoke": lambda r, p: lifecycle.access_request_revoke(
        request=r, administrator=p["administrator"], reason="Stop."
    ),
}

EXPECTED_AFTER = {
    "approve": "approved",
    "deny": "denied",
    "cancel": "cancelled",
    "self_authorise": "active",
    "check_out": "active",
    "check_in": "returned",
    "confirm_rotation": "closed",
    "revoke": "revoked",
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_in_each_status(status: str, action: str, account: Any, people: dict[str, Any]) -> None:
    request = in_status(status, account, people)
    transitions_before = request.transitions.count()

    if action in ALLOWED[status]:
        ACTIONS[action](request, people)
        request.refresh_from_db()
        assert request.status == EXPECTED_AFTER[action]
        assert request.transitions.count() == transitions_before + 1
    else:
        with pytest.raises(DomainError) as caught:
            ACTIONS[action](request, people)
        request.refresh_from_db()
        assert request.status == status
        assert request.transitions.count() == transitions_before
        # The person is told the state that stopped them.
        label = dict(AccessRequest._meta.get_field("status").choices)[status].lower()  # type: ignore[arg-type]
        assert f"is {label}" in caught.value.messages[0]


def test_the_transition_map_and_the_matrix_agree() -> None:
    reachable = {frm: {EXPECTED_AFTER[a] for a in actions} for frm, actions in ALLOWED.items()}
    for frm, targets in reachable.items():
        assert targets <= lifecycle.TRANSITIONS[frm], frm
