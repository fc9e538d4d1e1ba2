"""``account_list``: requesters see the accounts they hold a live grant for, auditors every account
read-only; the list shows governance, devices, custody, who may ask and the quorum, at a fixed
query cost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from breakglass import services
from breakglass.tests.factories import AwsAccountFactory, GrantFactory, MfaDeviceFactory

pytestmark = pytest.mark.django_db


def test_a_requester_sees_only_the_accounts_they_hold_a_live_grant_for(
    client: Client, requester: Any, account: Any, other_account: Any
) -> None:
    GrantFactory(user=requester, account=account)
    expired = AwsAccountFactory(name="expired-grant")
    GrantFactory(user=requester, account=expired, expires_at=timezone.now() - timedelta(days=1))
    client.force_login(requester)

    page = client.get(reverse("breakglass:account_list")).content.decode()

    assert "payments-prod" in page
    assert "web-staging" not in page
    assert "expired-grant" not in page
    assert "Add an account" not in page
    assert (
        client.get(reverse("breakglass:account_detail", kwargs={"uuid": other_account.uuid})).status_code
        == 404
    )
    assert client.get(reverse("breakglass:account_detail", kwargs={"uuid": account.uuid})).status_code == 200


def test_an_auditor_sees_every_account_read_only(
    client: Client, auditor: Any, account: Any, other_account: Any
) -> None:
    client.force_login(auditor)
    page = client.get(reverse("breakglass:account_list")).content.decode()
    assert "payments-prod" in page
    assert "web-staging" in page
    detail = client.get(reverse("breakglass:account_detail", kwargs={"uuid": account.uuid})).content.decode()
    assert "Edit account" not in detail
    assert "Add device" not in detail


def test_the_list_shows_governance_devices_custody_eligibility_and_quorum(
    client: Client, administrator: Any, account: Any, requester: Any, approver: Any
) -> None:
    device = MfaDeviceFactory(label="YubiKey Blue", kind="virtual")
    services.mfa_device_assign(actor=administrator, device=device, account=account)
    GrantFactory(user=requester, account=account, emergency=True)
    client.force_login(administrator)

    page = client.get(reverse("breakglass:account_list")).content.decode()

    assert "Password and MFA" in page
    assert "YubiKey Blue" in page
    assert "In safe" in page
    assert "virtual" in page
    assert "rita.requester" in page
    assert "alan.approver" in page
    assert "(1 needed)" in page


def test_the_account_list_runs_the_same_number_of_queries_for_3_and_30_accounts(
    client: Client, administrator: Any, django_assert_max_num_queries: Any
) -> None:
    def populate(n: int) -> None:
        for _ in range(n):
            account = AwsAccountFactory()
            services.mfa_device_assign(actor=administrator, device=MfaDeviceFactory(), account=account)
            GrantFactory(account=account)

    client.force_login(administrator)
    populate(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("breakglass:account_list")).status_code == 200
    populate(27)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("breakglass:account_list")).status_code == 200
    assert len(many) == len(few)
