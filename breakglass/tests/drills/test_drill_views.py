"""The drill and reachability pages: who sees what, scheduling under step-up, confirming with a
fresh MFA check, and the ledger entries they write."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from breakglass import reachability
from breakglass.models import Drill, ReachabilityCheck
from breakglass.tests.factories import GrantFactory
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_the_drills_page_lists_the_accounts_a_person_may_see(
    signed_in: Callable[..., Client], drill: Drill, custodian: Any, requester: Any, other_account: Any
) -> None:
    page = signed_in(custodian).get(reverse("breakglass:drill_list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "payments-prod" in text
    assert drill.request.code in text
    assert other_account.name not in text  # not carl's
    assert "Schedule a drill" not in text
    # A requester with no part in the account sees none of it.
    assert (
        drill.request.code not in signed_in(requester).get(reverse("breakglass:drill_list")).content.decode()
    )


def test_a_grant_holder_sees_the_drill_of_their_account_but_not_its_session(
    signed_in: Callable[..., Client], drill: Drill, requester: Any, drilled_account: Any
) -> None:
    GrantFactory(user=requester, account=drilled_account)
    client = signed_in(requester)
    page = client.get(reverse("breakglass:drill_detail", kwargs={"uuid": drill.uuid}))
    assert page.status_code == 200
    session_url = reverse("breakglass:request_detail", kwargs={"uuid": drill.request.uuid})
    assert session_url not in page.content.decode()
    assert client.get(session_url).status_code == 404


def test_the_drill_page_is_for_those_who_see_its_account(
    signed_in: Callable[..., Client], drill: Drill, approver: Any, requester: Any
) -> None:
    url = reverse("breakglass:drill_detail", kwargs={"uuid": drill.uuid})
    page = signed_in(approver).get(url)
    assert page.status_code == 200
    assert "Bridge: +1 555 0100." in page.content.decode()
    assert signed_in(requester).get(url).status_code == 404


def test_the_account_page_shows_its_drill_status(
    signed_in: Callable[..., Client], drill: Drill, administrator: Any, drilled_account: Any
) -> None:
    page = signed_in(administrator).get(
        reverse("breakglass:account_detail", kwargs={"uuid": drilled_account.uuid})
    )
    text = page.content.decode()
    assert "Break-glass drills" in text
    assert drill.request.code in text
    assert "Schedule a drill" in text


def test_scheduling_asks_for_a_fresh_second_factor(
    signed_in: Callable[..., Client], administrator: Any, custodian: Any, drilled_account: Any
) -> None:
    url = reverse("breakglass:drill_schedule", kwargs={"uuid": drilled_account.uuid})
    response = signed_in(administrator).get(url)
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]


def test_an_administrator_schedules_a_drill(
    signed_in: Callable[..., Client], administrator: Any, custodian: Any, drilled_account: Any
) -> None:
    client = signed_in(administrator, stepped_up=True)
    url = reverse("breakglass:drill_schedule", kwargs={"uuid": drilled_account.uuid})
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "performer": custodian.pk,
            "starts_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 30,
            "note": "",
        },
    )
    drill = Drill.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/drills/{drill.uuid}/")
    assert LedgerEntry.objects.filter(action="drill.scheduled", actor_id=administrator.pk).exists()


def test_a_custodian_cannot_schedule(
    signed_in: Callable[..., Client], custodian: Any, drilled_account: Any
) -> None:
    url = reverse("breakglass:drill_schedule", kwargs={"uuid": drilled_account.uuid})
    assert signed_in(custodian, stepped_up=True).get(url).status_code == 403


def test_an_approver_confirms_with_a_fresh_second_factor(
    signed_in: Callable[..., Client], approver: Any, account: Any
) -> None:
    check = reachability.reachability_ask(approver=approver)
    url = reverse("breakglass:reachability_confirm", kwargs={"uuid": check.uuid})
    page = signed_in(approver).get(reverse("breakglass:reachability"))
    assert url in page.content.decode()
    stale = signed_in(approver).post(url)
    assert stale.status_code == 302
    assert "reauthenticate" in stale["Location"]
    check.refresh_from_db()
    assert check.confirmed_at is None
    response = signed_in(approver, stepped_up=True).post(url)
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.confirmed_at is not None
    assert LedgerEntry.objects.filter(action="reachability.confirmed", actor_id=approver.pk).exists()


def test_nobody_confirms_for_another_approver(
    signed_in: Callable[..., Client], approver: Any, second_approver: Any, account: Any
) -> None:
    check = reachability.reachability_ask(approver=approver)
    url = reverse("breakglass:reachability_confirm", kwargs={"uuid": check.uuid})
    assert signed_in(second_approver, stepped_up=True).post(url).status_code == 404
    assert ReachabilityCheck.objects.get().confirmed_at is None


@pytest.mark.parametrize(
    ("name", "needs_uuid", "method"),
    [
        ("breakglass:drill_list", False, "get"),
        ("breakglass:drill_detail", True, "get"),
        ("breakglass:drill_schedule", True, "get"),
        ("breakglass:reachability", False, "get"),
        ("breakglass:reachability_confirm", True, "post"),
    ],
)
def test_every_drill_page_sends_strangers_to_sign_in_and_refuses_outsiders(
    signed_in: Callable[..., Client], outsider: Any, name: str, needs_uuid: bool, method: str
) -> None:
    url = reverse(name, kwargs={"uuid": uuid.uuid4()} if needs_uuid else None)
    anonymous = getattr(Client(), method)(url)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    assert getattr(signed_in(outsider), method)(url).status_code == 403
