"""Builders for requests in each state, through the real services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from breakglass import custody, lifecycle
from breakglass.models import AccessRequest
from breakglass.tests.factories import GrantFactory

JUSTIFICATION = "Close the legacy account as agreed in the decommissioning plan."
# The root password a test account starts with, and the one a rotation sets.
PASSWORD = "Initial-Root-Password-0001"
NEW_PASSWORD = "Rotated-Root-Password-0002"


def make_request(
    requester: Any, account: Any, *, emergency_grant: bool = False, **overrides: Any
) -> AccessRequest:
    if not account.grants.filter(user=requester, revoked_at__isnull=True).exists():
        GrantFactory(user=requester, account=account, emergency=emergency_grant)
    fields: dict[str, Any] = {
        "root_task": "close_account",
        "justification": JUSTIFICATION,
        "ticket_reference": "CHG-1234",
        "starts_at": timezone.now(),
        "duration_minutes": 60,
        **overrides,
    }
    return lifecycle.access_request_create(requester=requester, account=account, **fields)


def approve(request: AccessRequest, *approvers: Any) -> AccessRequest:
    for approver in approvers:
        lifecycle.access_request_decide(
            request=request, approver=approver, decision="approve", comment="Looks right."
        )
    request.refresh_from_db()
    return request


def active(request: AccessRequest, approver: Any) -> AccessRequest:
    approve(request, approver)
    return custody.access_request_check_out(request=request, requester=request.requester)


def returned(request: AccessRequest, approver: Any) -> AccessRequest:
    active(request, approver)
    return custody.access_request_check_in(
        request=request,
        actor=request.requester,
        work_done="Closed the account as planned.",
        envelope_number="ENV-2",
    )


def later(minutes: int) -> Any:
    return timezone.now() + timedelta(minutes=minutes)
