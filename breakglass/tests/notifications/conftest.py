"""Fixtures shared by the notifications wing's tests: requests to notify, channels, a local HTTP
receiver, Celery run in place, and a record of what the outbox hands to the delivery task."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone

from breakglass.models import AccessRequest, NotificationChannel
from breakglass.notifications import outbox
from breakglass.tests.notifications.http_receiver import Receiver, running_receiver
from portal.celery import app as celery_app


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run Celery tasks in the calling thread, as a worker would after the commit."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


@pytest.fixture
def handed_over(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The notification ids the outbox hands to the delivery task, recorded instead of queued.

    The outbox reaches the task by name; the name resolves to the registered task, whose
    ``apply_async`` is the one door to the broker.
    """
    handed: list[int] = []

    def record(args: tuple[Any, ...] | None = None, kwargs: Any = None, **options: Any) -> None:
        assert args is not None
        handed.append(args[0])

    monkeypatch.setattr(celery_app.tasks[outbox.DELIVER_TASK], "apply_async", record)
    return handed


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """The broker refuses every hand-over, with a password in its error's text."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("redis://:hunter2@redis:6379/0 refused")

    monkeypatch.setattr(celery_app.tasks[outbox.DELIVER_TASK], "apply_async", refuse)


@pytest.fixture
def make_request(requester: Any, account: Any) -> Callable[..., AccessRequest]:
    counter = iter(range(1, 1000))

    def make(**fields: Any) -> AccessRequest:
        values: dict[str, Any] = {
            "code": f"BG-{next(counter):04d}",
            "requester": requester,
            "account": account,
            "root_task": "close_account",
            "justification": "The account is being retired after the migration to the new org.",
            "ticket_reference": "CHG-1234",
            "starts_at": timezone.now(),
            "duration_minutes": 60,
        }
        values.update(fields)
        return AccessRequest.objects.create(**values)

    return make


@pytest.fixture
def access_request(make_request: Callable[..., AccessRequest]) -> AccessRequest:
    return make_request(
        code="BG-0042",
        justification="Retiring the account after the migration.",
        ticket_reference="CHG-42",
    )


@pytest.fixture
def channels_of(account: Any, other_account: Any) -> dict[str, NotificationChannel]:
    return {
        "account": NotificationChannel.objects.create(
            account=account, kind="email", name="payments-team", target="payments@example.org"
        ),
        "disabled": NotificationChannel.objects.create(
            account=account, kind="email", name="old-list", target="old@example.org", enabled=False
        ),
        "other": NotificationChannel.objects.create(
            account=other_account, kind="email", name="web-team", target="web@example.org"
        ),
        "global": NotificationChannel.objects.create(
            account=None, kind="email", name="security-team", target="soc@example.org"
        ),
    }
