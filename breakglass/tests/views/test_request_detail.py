"""``request_detail``: who learns a request exists, what its page shows (the merged timeline), and
that it costs the same queries however long the history.

The other request pages (decide, check out, reveal ...) also answer 404 to a person with no part in
the request; they are listed here because they all hang off this page. Anonymous visitors and people
without a role: ``portal/tests/test_url_guards.py``, for every URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from breakglass import custody, lifecycle
from breakglass.models import AccessRequest
from breakglass.tests.factories import AwsAccountFactory
from breakglass.tests.lifecycle_helpers import JUSTIFICATION, active, make_request
from breakglass.tests.views.support import PASSWORD, page, url
from portal.policy import Role

pytestmark = pytest.mark.django_db

# (url name, method) of the pages of one request
REQUEST_PAGES = [
    ("request_detail", "get"),
    ("request_decide", "post"),
    ("request_cancel", "post"),
    ("request_self_authorise", "post"),
    ("request_check_out", "post"),
    ("request_hand_over", "post"),
    ("request_reveal", "post"),
    ("request_check_in", "post"),
    ("request_confirm_rotation", "get"),
    ("request_revoke", "post"),
]


@pytest.mark.parametrize(("name", "method"), REQUEST_PAGES)
def test_a_person_with_no_part_in_the_request_does_not_learn_it_exists(
    signed_in: Callable[..., Client], make_persona: Any, pending: AccessRequest, name: str, method: str
) -> None:
    other_approver = make_persona("olga.approver", Role.APPROVER, Role.CUSTODIAN)
    AwsAccountFactory().approvers.add(other_approver)
    client = signed_in(other_approver, stepped_up=True)
    assert getattr(client, method)(url(name, pending)).status_code == 404
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert not pending.approvals.exists()


@pytest.mark.parametrize("persona", ["requester", "approver", "custodian", "auditor", "administrator"])
def test_everyone_involved_sees_the_request_page(
    request: Any, signed_in: Callable[..., Client], pending: AccessRequest, persona: str
) -> None:
    response = signed_in(request.getfixturevalue(persona)).get(url("request_detail", pending))
    assert response.status_code == 200
    assert pending.code in page(response)
    assert JUSTIFICATION in page(response)


def test_the_request_page_runs_the_same_number_of_queries_however_long_its_history(
    signed_in: Callable[..., Client], requester: Any, approver: Any, portal_account: Any
) -> None:
    session = active(make_request(requester, portal_account), approver)
    client = signed_in(requester)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("request_detail", session)).status_code == 200
    for _ in range(5):
        custody.access_request_reveal_password(request=session, user=requester)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url("request_detail", session)).status_code == 200
    assert len(many) == len(few)


def test_the_timeline_merges_transitions_decisions_reveals_and_notifications_in_order(
    signed_in: Callable[..., Client], requester: Any, approver: Any, auditor: Any, pending: AccessRequest
) -> None:
    lifecycle.access_request_decide(
        request=pending, approver=approver, decision="approve", comment="Matches change CHG-1234."
    )
    custody.access_request_check_out(request=pending, requester=requester)
    custody.access_request_reveal_password(request=pending, user=requester)

    html = page(signed_in(auditor).get(url("request_detail", pending)))

    expected_in_order = [
        "<strong>Requested</strong>",
        "Matches change CHG-1234.",
        "<strong>Pending approval → Approved</strong>",
        "<strong>Approved → Checked out</strong>",
        "Revealed the root password",
    ]
    positions = [html.index(text) for text in expected_in_order]
    assert positions == sorted(positions)
    assert "request.created" in html
    assert "alan.approver" in html
    assert PASSWORD not in html
