"""``request_active``: the live check-outs, seen by the holder, custodians and auditors only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from breakglass.tests.factories import GrantFactory
from breakglass.tests.lifecycle_helpers import active, make_request
from breakglass.tests.views.support import page, url
from portal.policy import Role

pytestmark = pytest.mark.django_db


def test_active_sessions_are_seen_by_the_holder_the_custodians_and_auditors_only(
    signed_in: Callable[..., Client],
    requester: Any,
    approver: Any,
    custodian: Any,
    auditor: Any,
    make_persona: Any,
    portal_account: Any,
) -> None:
    session = active(make_request(requester, portal_account), approver)
    bystander = make_persona("rob.requester", Role.REQUESTER)
    GrantFactory(user=bystander, account=portal_account)

    for person in (requester, custodian, auditor):
        html = page(signed_in(person).get(url("request_active")))
        assert session.code in html, person
        assert "left" in html
    assert session.code not in page(signed_in(bystander).get(url("request_active")))
