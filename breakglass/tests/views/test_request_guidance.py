"""The request pages say what happens next (issue 11, item 3): the check-out names the custodians
who hand over the device, the reveal page gives the holder the root user's full sign-in e-mail
(masked everywhere else), an emergency's reason stands in the facts, and a pending request keeps
the red self-authorise panel folded until the requester asks for the emergency path."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from breakglass.tests.factories import GrantFactory
from breakglass.tests.lifecycle_helpers import active, approve, make_request
from breakglass.tests.views.support import page, url

pytestmark = pytest.mark.django_db

REASON = "Approvers unreachable during the payments outage; card processing is down."


def test_the_check_out_says_a_custodian_hands_over_the_device_and_names_them(
    signed_in: Callable[..., Client], requester: Any, approver: Any, custodian: Any, pending: Any
) -> None:
    approve(pending, approver)
    html = page(signed_in(requester).get(url("request_detail", pending)))
    assert "A custodian must then hand you the MFA device" in html
    assert custodian.get_username() in html.split("A custodian must then hand you")[1].split("</p>")[0]


def test_after_check_out_the_holder_is_told_whom_to_ask_until_the_hand_over(
    signed_in: Callable[..., Client], requester: Any, approver: Any, custodian: Any, pending: Any
) -> None:
    active(pending, approver)
    html = page(signed_in(requester).get(url("request_detail", pending)))
    assert "Next: a custodian hands you the MFA device." in html
    assert f"({custodian.get_username()})" in html
    # The custodian sees the hand-over form, not the holder's hint.
    assert "Next: a custodian hands you" not in page(signed_in(custodian).get(url("request_detail", pending)))


def test_with_no_custodian_the_holder_is_told_to_ask_an_administrator(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: Any
) -> None:
    pending.account.custodians.clear()
    approve(pending, approver)
    assert "ask an administrator" in page(signed_in(requester).get(url("request_detail", pending)))


def test_the_reveal_page_shows_the_full_root_e_mail_to_the_holder_only_there(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: Any
) -> None:
    active(pending, approver)
    client = signed_in(requester, stepped_up=True)
    email = pending.account.root_email
    assert email not in page(client.get(url("request_detail", pending)))
    assert pending.account.root_email_masked in page(client.get(url("account_detail", pending.account)))

    reveal = page(client.post(url("request_reveal", pending)))

    assert re.search(rf'class="mono root-email">{re.escape(email)}<', reveal)


def test_the_emergency_reason_stands_in_the_request_s_facts(
    signed_in: Callable[..., Client], requester: Any, approver: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    pending = make_request(requester, account)
    client = signed_in(requester, stepped_up=True)
    client.post(url("request_self_authorise", pending), {"reason": REASON})

    html = page(signed_in(approver).get(url("request_detail", pending)))

    facts = html.split('<dl class="facts">')[1].split("</dl>")[0]
    assert "<dt>Emergency reason</dt>" in facts
    assert REASON.replace("'", "&#x27;") in facts


def test_a_pending_request_keeps_the_emergency_path_folded_until_asked(
    signed_in: Callable[..., Client], requester: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    pending = make_request(requester, account)
    client = signed_in(requester, stepped_up=True)

    html = page(client.get(url("request_detail", pending)))
    assert re.search(r'<details class="action emergency-path">\s*<summary>It cannot wait', html)

    # A failed attempt comes back unfolded, with its error.
    failed = page(client.post(url("request_self_authorise", pending), {"reason": "short"}))
    assert '<details class="action emergency-path" open>' in failed
