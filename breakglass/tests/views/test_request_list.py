"""``request_list``: a requester's own requests. The query-budget test covers all four lists
(``request_list``, ``request_approvals``, ``request_active``, ``custody_board``) at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from breakglass import custody, services
from breakglass.tests.factories import AwsAccountFactory, MfaDeviceFactory, PhysicalCredentialFactory
from breakglass.tests.lifecycle_helpers import active, make_request
from breakglass.tests.views.support import page, url
from portal.policy import Role

pytestmark = pytest.mark.django_db


def test_my_requests_lists_only_my_own(
    signed_in: Callable[..., Client], requester: Any, make_persona: Any, portal_account: Any
) -> None:
    mine = make_request(requester, portal_account)
    theirs = make_request(make_persona("rob.requester", Role.REQUESTER), portal_account)
    html = page(signed_in(requester).get(url("request_list")))
    assert mine.code in html
    assert theirs.code not in html
    assert "Close the AWS account" in html
    assert "New request" in html


def test_lists_run_the_same_number_of_queries_for_few_and_many_requests(
    signed_in: Callable[..., Client],
    requester: Any,
    approver: Any,
    custodian: Any,
    administrator: Any,
    auditor: Any,
) -> None:
    def populate(n: int) -> None:
        for _ in range(n):
            account = AwsAccountFactory()
            account.approvers.add(approver)
            account.custodians.add(custodian)
            PhysicalCredentialFactory(account=account)
            key = MfaDeviceFactory()
            services.mfa_device_assign(actor=administrator, device=key, account=account)
            session = active(make_request(requester, account), approver)
            custody.access_request_hand_over(request=session, custodian=custodian, devices=[key])
            make_request(requester, account)

    requester_client, approver_client, auditor_client = (
        signed_in(requester),
        signed_in(approver),
        signed_in(auditor),
    )
    pages = [
        (requester_client, "request_list"),
        (approver_client, "request_approvals"),
        (auditor_client, "request_active"),
        (auditor_client, "custody_board"),
    ]
    populate(2)
    few = {}
    for client, name in pages:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(name)).status_code == 200
        few[name] = len(queries)
    populate(8)
    for client, name in pages:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(name)).status_code == 200
        assert len(queries) == few[name], name
