"""``custody_board``: custodians see where each device and password of the accounts they keep is;
auditors see every account's; plain requesters get no board."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from breakglass import custody, services
from breakglass.tests.factories import AwsAccountFactory, MfaDeviceFactory, PhysicalCredentialFactory
from breakglass.tests.lifecycle_helpers import active, make_request
from breakglass.tests.views.support import page, url

pytestmark = pytest.mark.django_db


def test_a_plain_requester_has_no_custody_board(signed_in: Callable[..., Client], requester: Any) -> None:
    assert signed_in(requester).get(url("custody_board")).status_code == 403


def test_the_custody_board_shows_where_each_device_and_password_of_kept_accounts_is(
    signed_in: Callable[..., Client],
    requester: Any,
    approver: Any,
    custodian: Any,
    administrator: Any,
    auditor: Any,
    portal_account: Any,
    device: Any,
) -> None:
    elsewhere = AwsAccountFactory(name="not-kept")
    services.mfa_device_assign(
        actor=administrator, device=MfaDeviceFactory(label="Other Key"), account=elsewhere
    )
    PhysicalCredentialFactory(account=elsewhere, safe_location="Vault 9", envelope_number="ENV-999")
    session = active(make_request(requester, portal_account), approver)
    custody.access_request_hand_over(request=session, custodian=custodian, devices=[device])

    html = page(signed_in(custodian).get(url("custody_board")))
    assert "YubiKey Payments" in html
    assert "rita.requester" in html
    assert session.code in html
    assert "Encrypted in the portal" in html
    assert "Other Key" not in html
    assert "ENV-999" not in html

    everything = page(signed_in(auditor).get(url("custody_board")))
    assert "Other Key" in everything
    assert "Vault 9" in everything
    assert "ENV-999" in everything
