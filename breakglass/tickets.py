"""The ticket a request names, in the organization's ticket system (issue 14, item 4).

Two optional settings, both URL templates with ``{ticket}`` (the reference, URL-quoted):

* ``PORTAL_TICKET_URL_TEMPLATE``: where a person reads the ticket (``https://acme.atlassian.net/browse/
  {ticket}``); the request page links the reference there.
* ``PORTAL_TICKET_CHECK_URL_TEMPLATE``: a JSON lookup (Jira: ``…/rest/api/2/issue/{ticket}?fields=status``;
  ServiceNow: ``…/api/now/table/incident?sysparm_query=number={ticket}&sysparm_limit=1``). When set, a
  request is accepted only for a ticket the system knows and has not closed:
  ``PORTAL_TICKET_STATE_FIELD`` is the dotted path to the state in the answer (Jira:
  ``fields.status.statusCategory.key``; ServiceNow: ``result.0.state``) and
  ``PORTAL_TICKET_CLOSED_STATES`` the states that count as closed (Jira: ``done``; ServiceNow: ``6,7``).
  ``PORTAL_TICKET_CHECK_AUTHORIZATION`` is sent as the ``Authorization`` header (``Bearer …`` or
  ``Basic …``); it is a secret, never logged or shown.

A ticket system that does not answer refuses an ordinary request (try again) but not an emergency
one: breaking glass must not depend on another system being up. The emergency request records in the
ledger that its ticket could not be checked, and why.

The transitions reach the ticket system through the existing webhook channels (signed JSON per
transition, ``breakglass/notifications``): point a channel at the system's inbound webhook.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings

OPEN, CLOSED, MISSING, UNCHECKED = "open", "closed", "missing", "unchecked"
#: An answer bigger than this is not a ticket lookup.
MAX_ANSWER_BYTES = 1 << 20


@dataclass(frozen=True)
class TicketCheck:
    outcome: str  # open, closed, missing or unchecked
    state: str = ""  # the system's own word for it, when it answered
    reason: str = ""  # why it could not be checked

    def for_ledger(self) -> str:
        detail = self.state or self.reason
        return f"{self.outcome} ({detail})" if detail else self.outcome


def _url(template: str, reference: str) -> str:
    return template.replace("{ticket}", urllib.parse.quote(reference.strip(), safe=""))


def ticket_link(reference: str) -> str | None:
    """Where a person reads the ticket, or None without a template or a reference."""
    template: str | None = settings.PORTAL_TICKET_URL_TEMPLATE
    if not template or not reference.strip():
        return None
    return _url(template, reference)


def checks_tickets() -> bool:
    return bool(settings.PORTAL_TICKET_CHECK_URL_TEMPLATE)


def check_ticket(reference: str) -> TicketCheck:
    """Ask the ticket system about ``reference`` (only when ``checks_tickets()``)."""
    template: str = settings.PORTAL_TICKET_CHECK_URL_TEMPLATE or ""
    # The settings accept only http(s) templates, and the reference is URL-quoted into them.
    request = urllib.request.Request(_url(template, reference), headers={"Accept": "application/json"})  # noqa: S310
    if settings.PORTAL_TICKET_CHECK_AUTHORIZATION:
        request.add_unredirected_header("Authorization", settings.PORTAL_TICKET_CHECK_AUTHORIZATION)
    try:
        timeout = settings.PORTAL_TICKET_CHECK_TIMEOUT_SECONDS
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (http(s) only, above)
            body = answer.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return TicketCheck(MISSING)
        return TicketCheck(UNCHECKED, reason=f"the ticket system answered HTTP {error.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        # The reason, not the URL: the URL may carry credentials in a query string.
        reason = getattr(error, "reason", None) or type(error).__name__
        return TicketCheck(UNCHECKED, reason=f"the ticket system did not answer ({reason})")
    if len(body) > MAX_ANSWER_BYTES:
        return TicketCheck(UNCHECKED, reason="the ticket system's answer is too large")
    try:
        state = _at(json.loads(body), settings.PORTAL_TICKET_STATE_FIELD)
    except (ValueError, KeyError, IndexError, TypeError):
        # ServiceNow answers 200 with an empty list for an unknown number.
        return (
            TicketCheck(MISSING)
            if _is_empty_result(body)
            else TicketCheck(
                UNCHECKED, reason=f"no {settings.PORTAL_TICKET_STATE_FIELD} in the ticket system's answer"
            )
        )
    closed = {value.lower() for value in settings.PORTAL_TICKET_CLOSED_STATES}
    return TicketCheck(CLOSED if str(state).lower() in closed else OPEN, state=str(state))


def _at(document: Any, path: str) -> Any:
    for part in path.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def _is_empty_result(body: bytes) -> bool:
    try:
        document = json.loads(body)
    except ValueError:
        return False
    return isinstance(document, dict) and document.get("result") == []


def refusal_of_ticket(reference: str, *, emergency: bool) -> tuple[str | None, TicketCheck | None]:
    """Why a request may not rest on this ticket (None: it may), and what the check found."""
    if not checks_tickets() or not reference.strip():
        return None, None
    found = check_ticket(reference)
    if found.outcome == MISSING:
        return f"{reference} is not in the ticket system: give the change or incident it belongs to.", found
    if found.outcome == CLOSED:
        return f"{reference} is closed ({found.state}): give an open ticket.", found
    if found.outcome == UNCHECKED and not emergency:
        return (
            f"The ticket could not be checked: {found.reason}. Try again in a minute; with an emergency "
            "grant you can break glass without the check.",
            found,
        )
    return None, found
