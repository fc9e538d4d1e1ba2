"""What the break-glass page tests share that is not a fixture: the passwords and Slack URL the fixtures
keep, URLs by name, the ledger actions written for a request, and reading a page."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from breakglass.models import AccessRequest
from ledger.models import LedgerEntry

PASSWORD = "Initial-Root-Password-0001"
NEW_PASSWORD = "Rotated-Root-Password-0002"
# A Slack webhook URL whose token part must never reach a page or the ledger.
SLACK_URL = "https://hooks.slack.com/services/T0000/B0000/tokenThatMustStaySecret"


def url(name: str, request: AccessRequest | None = None) -> str:
    return reverse(f"breakglass:{name}", kwargs={"uuid": request.uuid} if request else None)


def ledger_actions(request: AccessRequest) -> list[str]:
    return list(
        LedgerEntry.objects.filter(target_id=str(request.uuid))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def page(response: Any) -> str:
    return response.content.decode()


def listed(request: AccessRequest, html: str) -> bool:
    """Whether a list links to the request (flash messages name it too, without a link)."""
    return f'class="mono">{request.code}</a>' in html


def ledger_entry(action: str, target: Any) -> LedgerEntry:
    """The one ledger entry ``action`` wrote about ``target``; fails the test if there is none."""
    return LedgerEntry.objects.get(action=action, target_id=str(target.uuid))
