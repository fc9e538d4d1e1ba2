"""The lifecycle announces each status change with a named signal (``breakglass.signals``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from breakglass.choices import RequestStatus
from breakglass.models import AccessRequest, Transition
from breakglass.signals import request_status_changed
from breakglass.tests.lifecycle_helpers import active, make_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard() -> Iterator[list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def listen(sender: type[AccessRequest], **arguments: Any) -> None:
        calls.append({"sender": sender, **arguments})

    request_status_changed.connect(listen, dispatch_uid="test.heard")
    try:
        yield calls
    finally:
        request_status_changed.disconnect(dispatch_uid="test.heard")


def test_each_status_change_is_sent_with_its_request_statuses_and_transition(
    heard: list[dict[str, Any]], requester: Any, account: Any, approver: Any
) -> None:
    request = active(make_request(requester, account), approver)

    assert [(call["from_status"], call["to_status"]) for call in heard] == [
        (RequestStatus.PENDING, RequestStatus.APPROVED),
        (RequestStatus.APPROVED, RequestStatus.ACTIVE),
    ]
    last = heard[-1]
    assert last["sender"] is AccessRequest
    assert last["request"].pk == request.pk
    assert isinstance(last["transition"], Transition)
    assert last["transition"].to_status == RequestStatus.ACTIVE
