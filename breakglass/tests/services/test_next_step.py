"""``breakglass.next_step``: what happens next to a request and who it waits for, in every state,
without a query of its own once the selector has loaded the request."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from breakglass import custody, lifecycle
from breakglass.models import AccessRequest
from breakglass.next_step import either, next_step
from breakglass.request_selectors import request_for
from breakglass.tests.lifecycle_helpers import active, approve, make_request
from portal.people import person_label as named

pytestmark = pytest.mark.django_db


def _step(request: AccessRequest, viewer: Any) -> str:
    return next_step(request_for(user=viewer, uuid=request.uuid), now=timezone.now()).sentence


def test_either_names_up_to_three_people_and_counts_the_rest() -> None:
    assert either(["a"]) == "a"
    assert either(["a", "b"]) == "a or b"
    assert either(["a", "b", "c"]) == "a, b or c"
    assert either(["a", "b", "c", "d", "e"]) == "a, b, c or 2 others"


def test_a_pending_request_waits_for_the_missing_approvals_from_those_who_may_still_decide(
    requester: Any, account: Any, approver: Any, second_approver: Any
) -> None:
    account.approvers.add(second_approver)
    account.approval_quorum = 2
    account.save()
    request = make_request(requester, account)
    assert _step(request, requester) == (
        f"Waiting for 2 more approvals from {named(approver)} or {named(second_approver)}."
    )
    approve(request, approver)
    assert _step(request, requester) == f"Waiting for 1 more approval from {named(second_approver)}."


def test_a_pending_request_nobody_can_decide_says_to_ask_an_administrator(
    requester: Any, account: Any, approver: Any
) -> None:
    account.approvers.clear()
    assert "no approver of payments-prod is left" in _step(make_request(requester, account), requester)


def test_a_checked_out_session_waits_for_a_custodian_who_did_not_approve(
    requester: Any, account: Any, approver: Any, custodian: Any, make_persona: Any
) -> None:
    # alan approves and is also a custodian: with separated duties he may not hand over.
    account.custodians.add(approver)
    request = active(make_request(requester, account), approver)
    step = next_step(request_for(user=requester, uuid=request.uuid), now=timezone.now())
    assert step.sentence == (
        f"Checked out; waiting for a custodian to hand over the MFA devices — {named(custodian)}."
    )
    assert step.waiting_for == (named(custodian),)


def test_after_check_in_it_waits_for_the_device_return_and_the_rotation(
    requester: Any, account: Any, approver: Any, custodian: Any, device: Any
) -> None:
    request = active(make_request(requester, account), approver)
    custody.access_request_hand_over(request=request, custodian=custodian, devices=[device])
    assert _step(request, requester).startswith(f"In use by {named(requester)} until ")
    custody.access_request_check_in(request=request, actor=requester, work_done="Closed it as planned.")
    assert _step(request, requester) == (
        "Checked in; waiting for a custodian to confirm the return of YubiKey Payments and the "
        f"password rotation — {named(custodian)}."
    )
    custody.device_return_confirm(request=request, custodian=custodian, device=device)
    assert _step(request, requester) == (
        f"Checked in; waiting for a custodian to confirm the password rotation — {named(custodian)}."
    )


def test_finished_requests_say_nothing_more_happens(requester: Any, account: Any) -> None:
    request = make_request(requester, account)
    lifecycle.access_request_cancel(request=request, requester=requester)
    step = next_step(request_for(user=requester, uuid=request.uuid), now=timezone.now())
    assert step.done
    assert step.sentence == "Cancelled: nothing more happens."


def test_it_runs_no_query_on_a_loaded_request(
    requester: Any, account: Any, approver: Any, django_assert_num_queries: Any
) -> None:
    request = request_for(user=requester, uuid=make_request(requester, account).uuid)
    with django_assert_num_queries(0):
        next_step(request, now=timezone.now())


def test_the_request_page_shows_the_same_sentence(
    client: Any, requester: Any, account: Any, approver: Any
) -> None:
    request = make_request(requester, account)
    client.force_login(requester)
    html = client.get(f"/inventory/requests/{request.uuid}/").content.decode()
    assert "What happens next" in html
    assert f"Waiting for 1 more approval from {named(approver)}." in html
