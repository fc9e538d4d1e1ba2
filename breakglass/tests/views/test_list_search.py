"""Search, filters and keyset pages on the accounts, devices and my-requests lists (issue 11, item 4)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass import services
from breakglass.models import AccessRequest
from breakglass.tests.factories import AwsAccountFactory, GrantFactory, MfaDeviceFactory
from portal.paging import DEFAULT_PAGE_SIZE

pytestmark = pytest.mark.django_db


def _page(client: Client, view: str, **query: str) -> str:
    response = client.get(reverse(view), query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("typed", ["1234-5678-9012", "123456789012", "1234 5678", "payments"])
def test_an_account_is_found_by_name_or_by_its_id_as_the_console_shows_it(
    client: Client, auditor: Any, account: Any, other_account: Any, typed: str
) -> None:
    account.account_id = "123456789012"
    account.save()
    client.force_login(auditor)

    page = _page(client, "breakglass:account_list", q=typed)

    assert "payments-prod" in page
    assert "web-staging" not in page


def test_a_search_never_shows_an_account_the_person_may_not_see(
    client: Client, requester: Any, account: Any, other_account: Any
) -> None:
    GrantFactory(user=requester, account=account)
    client.force_login(requester)

    assert "web-staging" not in _page(client, "breakglass:account_list", q="web")
    assert "No account matches" in _page(client, "breakglass:account_list", q="web")


def test_the_account_list_pages_with_next_and_previous(client: Client, auditor: Any) -> None:
    for n in range(DEFAULT_PAGE_SIZE + 3):
        AwsAccountFactory(name=f"acct-{n:03d}")
    client.force_login(auditor)

    first = client.get(reverse("breakglass:account_list"))
    page = first.context["page"]
    assert len(page) == DEFAULT_PAGE_SIZE
    assert page.next_cursor
    assert page.previous_cursor is None
    second = client.get(reverse("breakglass:account_list"), {"cursor": page.next_cursor})
    names = [account.name for account in second.context["page"]]
    assert names == [f"acct-{n:03d}" for n in range(DEFAULT_PAGE_SIZE, DEFAULT_PAGE_SIZE + 3)]
    assert 'rel="prev"' in second.content.decode()


def test_the_next_link_keeps_the_search(client: Client, auditor: Any) -> None:
    for n in range(DEFAULT_PAGE_SIZE + 2):
        AwsAccountFactory(name=f"team-{n:03d}")
    AwsAccountFactory(name="other")
    client.force_login(auditor)

    body = _page(client, "breakglass:account_list", q="team")

    assert "?q=team&amp;cursor=" in body


def test_a_custodians_device_search_does_not_tell_which_other_accounts_a_key_protects(
    client: Client, administrator: Any, custodian: Any, account: Any, other_account: Any
) -> None:
    shared = MfaDeviceFactory(kind="fido", label="Shared key")
    services.mfa_device_assign(actor=administrator, device=shared, account=account)
    services.mfa_device_assign(actor=administrator, device=shared, account=other_account)
    client.force_login(custodian)  # keeps payments-prod only

    assert "Shared key" in _page(client, "breakglass:device_list", q="payments")
    assert "Shared key" not in _page(client, "breakglass:device_list", q="web-staging")


def test_devices_filter_by_custody_state(client: Client, auditor: Any) -> None:
    MfaDeviceFactory(kind="fido", label="In the safe")
    MfaDeviceFactory(kind="fido", label="Gone", custody_state="lost")
    client.force_login(auditor)

    page = _page(client, "breakglass:device_list", custody="lost")

    assert "Gone" in page
    assert "In the safe" not in page


def test_my_requests_search_by_code_and_status_and_page_newest_first(
    client: Client, requester: Any, account: Any
) -> None:
    made = [
        AccessRequest.objects.create(
            code=f"BG-{n:04d}", requester=requester, account=account, root_task="other",
            other_task="Unlock a bucket", justification="INC-1 bucket policy", ticket_reference=f"INC-{n}",
            starts_at=account.created_at, duration_minutes=30, status="cancelled" if n % 2 else "denied",
        )
        for n in range(DEFAULT_PAGE_SIZE + 1)
    ]  # fmt: skip
    client.force_login(requester)

    first = client.get(reverse("breakglass:request_list"))
    codes = [r.code for r in first.context["page"]]
    assert codes[0] == made[-1].code  # newest first
    assert first.context["page"].next_cursor
    assert "Older" in first.content.decode()
    assert "BG-0007" in _page(client, "breakglass:request_list", q="bg-0007")
    denied = _page(client, "breakglass:request_list", status="denied")
    assert "BG-0002" in denied
    assert "BG-0003" not in denied
