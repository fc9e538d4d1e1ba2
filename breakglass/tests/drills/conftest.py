"""A drill's account: quorum 1 (alan), custodian carl (the performer) and a second custodian, the
root password kept in the portal, and a drill scheduled by ada for now."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from breakglass import drills, services
from breakglass.models import Drill
from breakglass.tests.lifecycle_helpers import PASSWORD
from portal.policy import Role


@pytest.fixture
def second_custodian(make_persona: Any) -> Any:
    return make_persona("cora.custodian", Role.CUSTODIAN)


@pytest.fixture
def drilled_account(administrator: Any, account: Any, second_custodian: Any) -> Any:
    account.custodians.add(second_custodian)
    services.root_credential_store_in_portal(actor=administrator, account=account, password=PASSWORD)
    return account


@pytest.fixture
def drill(administrator: Any, custodian: Any, drilled_account: Any) -> Drill:
    return drills.drill_schedule(
        administrator=administrator,
        account=drilled_account,
        performer=custodian,
        starts_at=timezone.now(),
        duration_minutes=30,
        note="Bridge: +1 555 0100.",
    )
