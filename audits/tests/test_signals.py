"""Findings follow check-out windows: the lifecycle's named signal reconciles the account after commit."""

from __future__ import annotations

from typing import Any

import pytest

from audits import signals
from breakglass.choices import RequestStatus
from breakglass.models import AccessRequest
from breakglass.signals import request_status_changed
from breakglass.tests.factories import AwsAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduled(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    seen: list[list[str]] = []
    monkeypatch.setattr(signals, "schedule_reconciliation", seen.append)
    return seen


def send(request: AccessRequest, to_status: str) -> None:
    request_status_changed.send(
        sender=AccessRequest, request=request, from_status="", to_status=to_status, transition=None
    )


@pytest.mark.parametrize("status", sorted(signals.WINDOW_CHANGES))
def test_a_window_change_reconciles_the_account_once_committed(
    status: str, scheduled: list[list[str]], django_capture_on_commit_callbacks: Any
) -> None:
    request = AccessRequest(account=_account())

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send(request, status)
        assert scheduled == []  # nothing before the commit: the change may be rolled back

    for callback in callbacks:
        callback()
    assert scheduled == [["123456789012"]]


@pytest.mark.parametrize("status", [RequestStatus.PENDING, RequestStatus.APPROVED, RequestStatus.DENIED])
def test_a_status_change_that_moves_no_window_reconciles_nothing(
    status: str, scheduled: list[list[str]], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send(AccessRequest(account=_account()), status)

    assert (callbacks, scheduled) == ([], [])


def _account() -> Any:
    return AwsAccountFactory(account_id="123456789012")
