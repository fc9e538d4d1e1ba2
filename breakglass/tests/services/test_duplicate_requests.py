"""A second pending request for the same account by the same person is refused, naming the open one
(``rules.open_duplicate``); the request form links to it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from breakglass import lifecycle
from breakglass.models import AccessRequest
from breakglass.tests.lifecycle_helpers import JUSTIFICATION, approve, make_request
from portal.errors import DomainError

pytestmark = pytest.mark.django_db


def test_a_second_pending_request_is_refused_with_the_open_one_named(requester: Any, account: Any) -> None:
    first = make_request(requester, account)
    with pytest.raises(DomainError) as refused:
        make_request(requester, account)
    assert refused.value.message_dict["account"] == [
        f"You already have {first.code} for payments-prod, pending approval; use it, or cancel it first."
    ]
    assert AccessRequest.objects.count() == 1


def test_after_approval_or_cancellation_the_next_request_is_accepted(
    requester: Any, account: Any, approver: Any
) -> None:
    approve(make_request(requester, account), approver)
    second = make_request(requester, account)
    lifecycle.access_request_cancel(request=second, requester=requester)
    make_request(requester, account)
    assert AccessRequest.objects.filter(requester=requester).count() == 3


def test_another_person_may_ask_for_the_same_account(requester: Any, account: Any, make_persona: Any) -> None:
    from portal.policy import Role

    make_request(requester, account)
    make_request(make_persona("rob.requester", Role.REQUESTER), account)
    assert AccessRequest.objects.filter(status="pending").count() == 2


def test_the_database_refuses_a_duplicate_that_slips_past_the_rule(requester: Any, account: Any) -> None:
    first = make_request(requester, account)
    with pytest.raises(IntegrityError):
        AccessRequest.objects.create(
            code="BG-DUP",
            requester=requester,
            account=account,
            root_task=first.root_task,
            justification=first.justification,
            starts_at=timezone.now(),
            duration_minutes=30,
        )


def test_the_form_links_to_the_open_request(client: Client, requester: Any, account: Any) -> None:
    first = make_request(requester, account)
    client.force_login(requester)
    response = client.post(
        reverse("breakglass:request_create"),
        {
            "account": account.pk,
            "root_task": "close_account",
            "justification": JUSTIFICATION,
            "ticket_reference": "CHG-1",
            "starts_at": timezone.now().strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 30,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f"You already have {first.code}" in html
    assert reverse("breakglass:request_detail", kwargs={"uuid": first.uuid}) in html
