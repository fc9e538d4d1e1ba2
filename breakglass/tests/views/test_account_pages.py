from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from breakglass import services
from breakglass.models import AwsAccount, RootCredential
from breakglass.tests.factories import AwsAccountFactory, GrantFactory, MfaDeviceFactory
from ledger.models import LedgerEntry
from portal.testing import step_up

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


def test_the_root_email_is_never_shown_in_full(client: Client, administrator: Any, account: Any) -> None:
    client.force_login(administrator)
    detail = client.get(reverse("breakglass:account_detail", kwargs={"uuid": account.uuid})).content.decode()
    assert account.root_email not in detail
    assert account.root_email_masked in detail


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
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("breakglass:account_list")).status_code == 200
    populate(27)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("breakglass:account_list")).status_code == 200
    assert len(many) == len(few)


def test_creating_an_account_needs_a_fresh_re_authentication(
    client: Client, administrator: Any, account_form_data: dict[str, Any]
) -> None:
    client.force_login(administrator)
    response = client.post(reverse("breakglass:account_create"), account_form_data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not AwsAccount.objects.filter(account_id="111122223333").exists()


def test_a_password_re_authentication_is_not_enough_for_someone_with_mfa(
    client: Client, administrator: Any, account_form_data: dict[str, Any]
) -> None:
    client.force_login(administrator)
    step_up(client, administrator, method="password")
    response = client.post(reverse("breakglass:account_create"), account_form_data)
    assert response.status_code == 302
    assert not AwsAccount.objects.filter(account_id="111122223333").exists()


def test_an_administrator_adds_an_account_after_stepping_up(
    client: Client, administrator: Any, account_form_data: dict[str, Any]
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(reverse("breakglass:account_create"), account_form_data)
    account = AwsAccount.objects.get(account_id="111122223333")
    assert response.status_code == 302
    assert response["Location"] == reverse("breakglass:account_detail", kwargs={"uuid": account.uuid})
    assert LedgerEntry.objects.filter(action="account.created", target_id=str(account.uuid)).exists()


def test_a_bad_account_id_comes_back_with_a_clear_message(
    client: Client, administrator: Any, account_form_data: dict[str, Any]
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(reverse("breakglass:account_create"), {**account_form_data, "account_id": "12345"})
    assert response.status_code == 200
    assert "An AWS account id is exactly 12 digits, for example 123456789012." in response.content.decode()
    assert not AwsAccount.objects.exists()


# The same twelve digits written with other Unicode digits (\d and str.isdigit accept all of them).
NON_ASCII_IDS = [
    "".join(chr(zero + int(digit)) for digit in "123456789012") for zero in (0x0660, 0x06F0, 0xFF10)
]


@pytest.mark.parametrize("digits", NON_ASCII_IDS, ids=["arabic-indic", "extended-arabic-indic", "full-width"])
def test_an_account_id_in_non_ascii_digits_is_a_form_error_not_a_database_error(
    client: Client, administrator: Any, account_form_data: dict[str, Any], digits: str
) -> None:
    # Fails before the fix: \d accepts any Unicode digit, and the database constraint refused the row.
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(reverse("breakglass:account_create"), {**account_form_data, "account_id": digits})
    assert response.status_code == 200
    assert "An AWS account id is exactly 12 digits, for example 123456789012." in response.content.decode()
    assert not AwsAccount.objects.exists()


def test_a_quorum_above_the_approvers_is_reported_on_the_form(
    client: Client, administrator: Any, account_form_data: dict[str, Any]
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(reverse("breakglass:account_create"), {**account_form_data, "approval_quorum": 3})
    assert "A quorum of 3 needs at least 3 approvers" in response.content.decode()


def test_an_administrator_stores_a_root_password_that_never_comes_back_in_the_page(
    client: Client, administrator: Any, account: Any
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    url = reverse("breakglass:credential_edit", kwargs={"uuid": account.uuid})
    secret = "Correct-Horse-Battery-Staple-99"
    response = client.post(url, {"storage": "portal", "password": secret, "password_again": secret})
    assert response.status_code == 302
    assert RootCredential.objects.get(account=account).storage == "portal"
    assert secret not in client.get(url).content.decode()
    detail = client.get(reverse("breakglass:account_detail", kwargs={"uuid": account.uuid})).content.decode()
    assert secret not in detail


def test_a_mistyped_password_confirmation_keeps_nothing_and_says_so(
    client: Client, administrator: Any, account: Any
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    url = reverse("breakglass:credential_edit", kwargs={"uuid": account.uuid})
    response = client.post(
        url,
        {
            "storage": "portal",
            "password": "Correct-Horse-Battery-1",
            "password_again": "Correct-Horse-Battery-2",
        },
    )
    body = response.content.decode()
    assert "The two passwords differ." in body
    assert "Correct-Horse-Battery" not in body
    assert not RootCredential.objects.exists()


def test_assigning_a_device_through_the_page_shows_the_rule_that_refused_it(
    client: Client, administrator: Any, account: Any, other_account: Any
) -> None:
    token = MfaDeviceFactory(kind="hardware_totp", label="Token-9")
    services.mfa_device_assign(actor=administrator, device=token, account=other_account)
    client.force_login(administrator)
    response = client.post(
        reverse("breakglass:device_assign", kwargs={"uuid": account.uuid}), {"device": token.pk}, follow=True
    )
    # The form offers only assignable devices, so the token is not even a valid choice.
    assert "Choose a device to add." in response.content.decode()
    assert not account.mfa_assignments.exists()


def test_granting_access_through_the_page(
    client: Client, administrator: Any, requester: Any, account: Any
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(
        reverse("breakglass:grant_create", kwargs={"uuid": account.uuid}),
        {
            "user": requester.pk,
            "expires_at": (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    assert account.grants.filter(user=requester, revoked_at__isnull=True).exists()


def test_the_custody_board_lists_devices_for_custodians(client: Client, custodian: Any) -> None:
    MfaDeviceFactory(label="YubiKey Green")
    client.force_login(custodian)
    response = client.get(reverse("breakglass:device_list"))
    assert response.status_code == 200
    assert "YubiKey Green" in response.content.decode()
    assert "Add a device" not in response.content.decode()


def test_a_requester_may_not_see_the_custody_board(client: Client, requester: Any) -> None:
    client.force_login(requester)
    assert client.get(reverse("breakglass:device_list")).status_code == 403
