"""Fixtures shared by the notifications wing's tests: requests to notify, channels, a local HTTP
receiver, Celery run in place, a record of what the outbox hands to the delivery task, and a
network that answers names from the test and lets connections reach 127.0.0.1 only."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from breakglass.models import AccessRequest, NotificationChannel
from breakglass.notifications import outbox
from breakglass.tests.notifications.http_receiver import Receiver, running_receiver
from portal.celery import app as celery_app


@dataclass
class LocalNetwork:
    """What the tests' stand-in for DNS answers, and every connection a test asked for."""

    names: dict[str, list[str]] = field(default_factory=dict)
    #: Names looked up (IP literals, which need no DNS, are not recorded).
    lookups: list[str] = field(default_factory=list)
    connections: list[str] = field(default_factory=list)


@pytest.fixture(autouse=True)
def network(monkeypatch: pytest.MonkeyPatch) -> LocalNetwork:
    """No test here reaches past this machine: names resolve only to what the test put in
    ``network.names`` (others do not exist), and a connection to anything but 127.0.0.1 is refused
    before a packet leaves (and recorded, so a test can prove it was never even tried)."""
    state = LocalNetwork()
    real_create_connection = socket.create_connection

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            addresses = [str(ipaddress.ip_address(name))]
        except ValueError:
            state.lookups.append(name)
            if name not in state.names:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            addresses = state.names[name]
        answers = []
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (
                (address, int(port or 0), 0, 0) if family == socket.AF_INET6 else (address, int(port or 0))
            )
            answers.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        return answers

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        state.connections.append(str(address[0]))
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError(
                111, "Connection refused (the tests' network reaches 127.0.0.1 only)"
            )
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return state


@pytest.fixture
def local_webhooks_allowed(settings: Any) -> None:
    """The development-only allowance the local receiver needs: webhooks may reach 127.0.0.1."""
    settings.PORTAL_WEBHOOK_ALLOW_HTTP = True
    settings.PORTAL_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def production_webhook_rules(settings: Any) -> None:
    """The production rules: https only, no allowance for any private or local network."""
    settings.PORTAL_WEBHOOK_ALLOW_HTTP = False
    settings.PORTAL_WEBHOOK_ALLOWED_NETWORKS = []


@pytest.fixture
def receiver(local_webhooks_allowed: None) -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


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
