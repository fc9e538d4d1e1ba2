from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from breakglass import services
from breakglass.tests.channel_support import Received, Receiver
from breakglass.tests.factories import AwsAccountFactory, MfaDeviceFactory


@pytest.fixture
def account(approver: Any, custodian: Any) -> Any:
    account = AwsAccountFactory(name="payments-prod", account_id="123456789012", approval_quorum=1)
    account.approvers.set([approver])
    account.custodians.set([custodian])
    return account


@pytest.fixture
def other_account() -> Any:
    return AwsAccountFactory(name="web-staging", account_id="210987654321")


@pytest.fixture
def fido_key() -> Any:
    return MfaDeviceFactory(kind="fido", label="YubiKey A")


@pytest.fixture
def account_form_data(approver: Any, custodian: Any) -> dict[str, Any]:
    return {
        "account_id": "111122223333",
        "name": "billing-prod",
        "environment": "production",
        "root_email": "aws-root+billing@example.org",
        "governance_mode": "classic",
        "approvers": [approver.pk],
        "approval_quorum": 1,
        "custodians": [custodian.pk],
        "max_session_minutes": 60,
        "ticket_required": "on",
    }


@pytest.fixture
def new_account(administrator: Any, approver: Any, custodian: Any) -> Any:
    return services.account_create(
        actor=administrator,
        account_id="444455556666",
        name="log-archive",
        root_email="aws-root+logs@example.org",
        environment="security",
        governance_mode="classic",
        approval_quorum=1,
        max_session_minutes=120,
        ticket_required=True,
        approvers=[approver],
        custodians=[custodian],
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local webhook receiver on a free port; it records what it receives and answers ``status``."""
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            recv = state["receiver"]
            recv.received.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(recv.status)
            if recv.location:
                self.send_header("Location", recv.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["receiver"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
