"""A request names a ticket the ticket system knows and has not closed (issue 14, item 4), asked of a
real HTTP server shaped like Jira's REST API; breaking glass never waits for it."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest
from django.utils import timezone

from breakglass import lifecycle, tickets
from breakglass.tests.factories import GrantFactory
from breakglass.tests.lifecycle_helpers import JUSTIFICATION
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db

TICKETS = {"CHG-1": "indeterminate", "CHG-2": "done", "CHG 3/x": "new"}
TOKEN = "Bearer ticket-system-secret"


class JiraLike(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:
        key = unquote(self.path.removeprefix("/rest/api/2/issue/").split("?")[0])
        JiraLike.seen.append((key, self.headers.get("Authorization")))
        if key not in TICKETS:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(
            {"key": key, "fields": {"status": {"statusCategory": {"key": TICKETS[key]}}}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def jira(settings: Any) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), JiraLike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.PORTAL_TICKET_CHECK_URL_TEMPLATE = base + "/rest/api/2/issue/{ticket}?fields=status"
    settings.PORTAL_TICKET_CHECK_AUTHORIZATION = TOKEN
    settings.PORTAL_TICKET_URL_TEMPLATE = "https://acme.atlassian.net/browse/{ticket}"
    JiraLike.seen = []
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def _request(requester: Any, account: Any, ticket: str, **extra: Any) -> Any:
    if not account.grants.filter(user=requester).exists():
        GrantFactory(user=requester, account=account, emergency=True)
    fields = {"root_task": "close_account", "justification": JUSTIFICATION, "starts_at": timezone.now(),
              "duration_minutes": 60, "ticket_reference": ticket}  # fmt: skip
    return lifecycle.access_request_create(requester=requester, account=account, **fields, **extra)


def test_an_open_ticket_is_accepted_checked_with_the_secret_header_and_linked(
    jira: str, requester: Any, account: Any
) -> None:
    request = _request(requester, account, "CHG-1")

    assert JiraLike.seen == [("CHG-1", TOKEN)]
    entry = LedgerEntry.objects.filter(action="access_request.created").latest("sequence")
    assert entry.data["ticket_check"] == "open (indeterminate)"
    assert request.ticket_url == "https://acme.atlassian.net/browse/CHG-1"


@pytest.mark.parametrize(
    ("ticket", "says"),
    [("CHG-2", "CHG-2 is closed (done)"), ("CHG-404", "CHG-404 is not in the ticket system")],
)
def test_a_closed_or_unknown_ticket_is_refused_on_the_ticket_field(
    jira: str, requester: Any, account: Any, ticket: str, says: str
) -> None:
    with pytest.raises(DomainError) as refused:
        _request(requester, account, ticket)
    assert says in refused.value.message_dict["ticket_reference"][0]


def test_the_reference_is_quoted_into_the_url(jira: str, requester: Any, account: Any) -> None:
    _request(requester, account, "CHG 3/x")
    assert JiraLike.seen == [("CHG 3/x", TOKEN)]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_silent_ticket_system_refuses_an_ordinary_request_but_not_breaking_glass(
    settings: Any, requester: Any, account: Any
) -> None:
    settings.PORTAL_TICKET_CHECK_URL_TEMPLATE = f"http://127.0.0.1:{_closed_port()}/issue/{{ticket}}"
    settings.PORTAL_TICKET_CHECK_AUTHORIZATION = TOKEN

    with pytest.raises(DomainError) as refused:
        _request(requester, account, "CHG-1")
    message = refused.value.message_dict["ticket_reference"][0]
    assert "could not be checked" in message
    assert "ticket-system-secret" not in message

    request = lifecycle.access_request_create_emergency(
        requester=requester, account=account, reason="Production is down and approvers are asleep.",
        root_task="close_account", justification=JUSTIFICATION, starts_at=timezone.now(),
        duration_minutes=60, ticket_reference="CHG-1",
    )  # fmt: skip
    assert request.status == "active"
    created = LedgerEntry.objects.filter(action="access_request.created").latest("sequence")
    assert created.data["ticket_check"].startswith("unchecked (the ticket system did not answer")


def test_without_a_check_url_nothing_is_asked(requester: Any, account: Any) -> None:
    assert not tickets.checks_tickets()
    request = _request(requester, account, "ANYTHING-1")
    assert request.ticket_url is None
