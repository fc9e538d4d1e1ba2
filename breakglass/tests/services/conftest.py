"""Fixtures shared by the service tests: an account whose root password the portal keeps, and an MFA
device assigned to the account."""

from __future__ import annotations

from typing import Any

import pytest

from breakglass import services
from breakglass.tests.factories import MfaDeviceFactory
from breakglass.tests.lifecycle_helpers import PASSWORD


@pytest.fixture
def portal_account(administrator: Any, account: Any) -> Any:
    services.root_credential_store_in_portal(actor=administrator, account=account, password=PASSWORD)
    return account


@pytest.fixture
def device(administrator: Any, account: Any) -> Any:
    key = MfaDeviceFactory(label="YubiKey Payments")
    services.mfa_device_assign(actor=administrator, device=key, account=account)
    return key
