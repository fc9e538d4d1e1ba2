"""``account_create``: an administrator adds an account after an MFA re-authentication; the form
reports the service's refusals; the ledger records ``account.created``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.models import AwsAccount
from ledger.models import LedgerEntry
from portal.testing import step_up

pytestmark = pytest.mark.django_db


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
