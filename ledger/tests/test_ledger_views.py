"""The auditors' page of the ledger: who may see it and what it shows."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ledger import services
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

URL = reverse("ledger:ledger_list")


@pytest.fixture
def entry() -> LedgerEntry:
    return services.record(
        actor=None,
        action="test.visible_action",
        target_type="test",
        target_id="42",
        target_repr="The answer",
    )


def test_the_url_is_audit_ledger() -> None:
    assert URL == "/audit/ledger/"


def test_an_anonymous_visitor_is_sent_to_sign_in(client: Client, entry: LedgerEntry) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_an_outsider_is_refused(client: Client, outsider: Any, entry: LedgerEntry) -> None:
    client.force_login(outsider)

    response = client.get(URL)

    assert response.status_code == 403
    assert b"test.visible_action" not in response.content


def test_a_requester_is_refused(client: Client, requester: Any, entry: LedgerEntry) -> None:
    client.force_login(requester)

    response = client.get(URL)

    assert response.status_code == 403
    assert b"test.visible_action" not in response.content


@pytest.mark.parametrize("persona", ["auditor", "administrator"])
def test_auditors_and_administrators_see_the_entries(
    client: Client, request: pytest.FixtureRequest, persona: str, entry: LedgerEntry
) -> None:
    client.force_login(request.getfixturevalue(persona))

    response = client.get(URL)

    assert response.status_code == 200
    content = response.content.decode()
    assert "test.visible_action" in content
    assert "The answer" in content
    assert entry.hash[:12] in content


def test_newest_entries_come_first_and_older_ones_are_on_later_pages(client: Client, auditor: Any) -> None:
    for n in range(1, 53):
        services.record(actor=None, action=f"test.step_{n:02d}")
    client.force_login(auditor)

    first = client.get(URL)
    cursor = first.context["page"].next_cursor
    second = client.get(URL, {"cursor": cursor})

    assert first.status_code == second.status_code == 200
    assert [e.sequence for e in first.context["page"].items][:2] == [52, 51]
    assert "test.step_52" in first.content.decode()
    assert "test.step_01" not in first.content.decode()
    assert "test.step_01" in second.content.decode()
    assert f"?cursor={cursor}" in first.content.decode()


def test_an_empty_ledger_says_so(client: Client, auditor: Any) -> None:
    client.force_login(auditor)

    response = client.get(URL)

    assert response.status_code == 200
    assert "The ledger is empty" in response.content.decode()


def test_reading_the_ledger_writes_nothing_to_it(client: Client, auditor: Any, entry: LedgerEntry) -> None:
    client.force_login(auditor)

    client.get(URL)

    assert LedgerEntry.objects.count() == 1
