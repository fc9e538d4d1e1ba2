"""What people type as they see it is accepted, and refusals read as the portal's own words
(issue 11, item 7): an account id as the console shows it (``1234-5678-9012``), and a duplicate
MFA device serial without Django's "Mfa device with this Serial number already exists."."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from breakglass.forms import AccountForm, MfaDeviceForm
from breakglass.models import AwsAccount
from breakglass.tests.factories import MfaDeviceFactory
from portal.testing import step_up

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["1111-2222-3333", " 1111 2222 3333 ", "111122223333"])
def test_an_account_id_is_accepted_as_the_console_shows_it(
    account_form_data: dict[str, Any], typed: str
) -> None:
    form = AccountForm(data={**account_form_data, "account_id": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["account_id"] == "111122223333"


def test_an_administrator_adds_an_account_typed_with_dashes(
    client: Client, administrator: Any, account_form_data: dict[str, Any]
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    response = client.post(
        reverse("breakglass:account_create"), {**account_form_data, "account_id": "1111-2222-3333"}
    )
    assert response.status_code == 302
    assert AwsAccount.objects.filter(account_id="111122223333").exists()


def test_a_duplicate_serial_number_is_refused_in_the_portal_s_words() -> None:
    MfaDeviceFactory(serial_number="SN-0001")
    form = MfaDeviceForm(
        data={"kind": "fido", "label": "Another key", "serial_number": "SN-0001", "storage_location": ""}
    )
    assert not form.is_valid()
    message = " ".join(form.errors["serial_number"])
    assert "Mfa device" not in message
    assert "An MFA device with this serial number is already registered" in message
