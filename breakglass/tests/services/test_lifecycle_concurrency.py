"""Races on PostgreSQL with real threads: the row locks and constraints must hold."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from breakglass import custody, lifecycle
from breakglass.models import AccessRequest, Transition
from breakglass.tests.lifecycle_helpers import approve, make_request
from portal.errors import DomainError
from portal.testing import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


@pytest.mark.parametrize("attempt", range(3))
def test_two_approvers_at_the_same_moment_reach_the_quorum_exactly_once(
    requester: Any, account: Any, approver: Any, second_approver: Any, attempt: int
) -> None:
    account.approvers.add(second_approver)
    account.approval_quorum = 2
    account.save()
    request = make_request(requester, account)

    _, errors = race(
        lambda: lifecycle.access_request_decide(
            request=request, approver=approver, decision="approve", comment="ok"
        ),
        lambda: lifecycle.access_request_decide(
            request=request, approver=second_approver, decision="approve", comment="ok"
        ),
    )

    assert errors == []
    request.refresh_from_db()
    assert request.status == "approved"
    assert Transition.objects.filter(request=request, to_status="approved").count() == 1
    assert request.approvals.count() == 2


@pytest.mark.parametrize("attempt", range(3))
def test_two_check_outs_of_one_account_at_the_same_moment_one_wins(
    requester: Any, make_persona: Any, account: Any, approver: Any, attempt: int
) -> None:
    from breakglass.tests.factories import GrantFactory
    from portal.policy import Role

    colleague = make_persona("colin.requester", Role.REQUESTER)
    GrantFactory(user=colleague, account=account)
    first = approve(make_request(requester, account), approver)
    second = approve(make_request(colleague, account), approver)

    results, errors = race(
        lambda: custody.access_request_check_out(request=first, requester=requester),
        lambda: custody.access_request_check_out(request=second, requester=colleague),
    )

    assert len(results) == 1
    assert len(errors) == 1
    assert isinstance(errors[0], DomainError)
    assert "Another check-out" in errors[0].messages[0]
    assert AccessRequest.objects.filter(account=account, status="active").count() == 1
