"""An account under review: two approvers (quorum 1), a custodian, a device in the safe registered
on it, and the requester's live grant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from breakglass import reviews, services
from breakglass.tests.factories import GrantFactory, MfaDeviceFactory


@pytest.fixture
def reviewed_account(account: Any, second_approver: Any) -> Any:
    account.approvers.add(second_approver)
    return account


@pytest.fixture
def safe_device(administrator: Any, reviewed_account: Any) -> Any:
    key = MfaDeviceFactory(label="YubiKey Payments", serial_number="YK-0042")
    services.mfa_device_assign(actor=administrator, device=key, account=reviewed_account)
    return key


@pytest.fixture
def grant(requester: Any, administrator: Any, reviewed_account: Any) -> Any:
    return GrantFactory(user=requester, account=reviewed_account, granted_by=administrator)


@pytest.fixture
def campaign(administrator: Any, grant: Any, safe_device: Any) -> Any:
    return reviews.review_campaign_start(actor=administrator, deadline=timezone.now() + timedelta(days=30))


def item_of(campaign: Any, subject: str, person: Any = None) -> Any:
    items = campaign.items.filter(subject=subject)
    if person is not None:
        items = items.filter(person=person)
    return items.get()
