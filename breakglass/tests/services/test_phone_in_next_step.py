"""A custodian's (or approver's) phone number where the next step waits for them: in the sentence,
as ``contacts`` for a tel: link, and on the pages, without a query per person."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from breakglass import membership
from breakglass.next_step import next_step
from breakglass.request_selectors import request_for
from breakglass.tests.lifecycle_helpers import active, make_request
from portal.people import person_label as named

pytestmark = pytest.mark.django_db


def test_a_checked_out_session_names_the_custodian_with_their_phone(
    requester: Any, account: Any, approver: Any, custodian: Any
) -> None:
    membership.person_phone_set(actor=custodian, person=custodian, phone="+1 555 0101")
    request = active(make_request(requester, account), approver)

    step = next_step(request_for(user=requester, uuid=request.uuid), now=timezone.now())

    assert step.sentence == (
        "Checked out; waiting for a custodian to hand over the MFA devices — "
        f"{named(custodian)}, +1 555 0101."
    )
    assert step.contacts == ((named(custodian), "+1 555 0101"),)
    assert step.waiting_for == (named(custodian),)


def test_approvers_with_a_phone_are_named_with_it_and_those_without_are_not(
    requester: Any, account: Any, approver: Any, second_approver: Any
) -> None:
    account.approvers.add(second_approver)
    membership.person_phone_set(actor=second_approver, person=second_approver, phone="+1 555 0103")
    request = make_request(requester, account)

    step = next_step(request_for(user=requester, uuid=request.uuid), now=timezone.now())

    assert step.sentence == (
        f"Waiting for 1 more approval from {named(approver)} or {named(second_approver)}, +1 555 0103."
    )
    assert step.contacts == ((named(second_approver), "+1 555 0103"),)


def test_reading_the_phone_costs_no_query_once_the_request_is_loaded(
    requester: Any, account: Any, approver: Any, custodian: Any, django_assert_num_queries: Any
) -> None:
    membership.person_phone_set(actor=custodian, person=custodian, phone="+1 555 0101")
    request = active(make_request(requester, account), approver)
    loaded = request_for(user=requester, uuid=request.uuid)
    with django_assert_num_queries(0):
        step = next_step(loaded, now=timezone.now())
    assert step.contacts


def test_the_request_page_and_the_home_page_link_the_number(
    client: Client, requester: Any, account: Any, approver: Any, custodian: Any
) -> None:
    membership.person_phone_set(actor=custodian, person=custodian, phone="+1 555 0101")
    request = active(make_request(requester, account), approver)
    client.force_login(requester)

    detail = client.get(reverse("breakglass:request_detail", kwargs={"uuid": request.uuid})).content.decode()
    home = client.get(reverse("home")).content.decode()

    assert 'href="tel:+15550101"' in detail
    assert 'href="tel:+15550101"' in home
    assert "+1 555 0101" in home


def test_the_approver_sees_the_requesters_number_beside_a_request_waiting_for_them(
    client: Client, requester: Any, account: Any, approver: Any
) -> None:
    membership.person_phone_set(actor=requester, person=requester, phone="+1 555 0104")
    make_request(requester, account)
    client.force_login(approver)
    assert 'href="tel:+15550104"' in client.get(reverse("home")).content.decode()


def test_the_request_page_gives_the_approver_the_requesters_number(
    client: Client, requester: Any, account: Any, approver: Any
) -> None:
    membership.person_phone_set(actor=requester, person=requester, phone="+1 555 0104")
    request = make_request(requester, account)
    client.force_login(approver)
    page = client.get(reverse("breakglass:request_detail", kwargs={"uuid": request.uuid})).content.decode()
    assert 'href="tel:+15550104"' in page
