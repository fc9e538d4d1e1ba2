from __future__ import annotations

from typing import Any

import pytest

from breakglass import services
from breakglass.tests.factories import AwsAccountFactory, MfaDeviceFactory


@pytest.fixture
def account(approver: Any, custodian: Any) -> Any:
    account = AwsAccountFactory(name="payments-prod", account_id="123456789012", approval_quorum=1)
    account.approvers.set([approver])
    account.custodians.set([custodian])
    return account


@pytest.fixture
def other_account() -> Any:
    return AwsAccountFactory(name="web-staging", account_id="210987654321")


@pytest.fixture
def fido_key() -> Any:
    return MfaDeviceFactory(kind="fido", label="YubiKey A")


@pytest.fixture
def account_form_data(approver: Any, custodian: Any) -> dict[str, Any]:
    return {
        "account_id": "111122223333",
        "name": "billing-prod",
        "environment": "production",
        "root_email": "aws-root+billing@example.org",
        "governance_mode": "classic",
        "approvers": [approver.pk],
        "approval_quorum": 1,
        "custodians": [custodian.pk],
        "max_session_minutes": 60,
        "ticket_required": "on",
    }


@pytest.fixture
def new_account(administrator: Any, approver: Any, custodian: Any) -> Any:
    return services.account_create(
        actor=administrator,
        account_id="444455556666",
        name="log-archive",
        root_email="aws-root+logs@example.org",
        environment="security",
        governance_mode="classic",
        approval_quorum=1,
        max_session_minutes=120,
        ticket_required=True,
        approvers=[approver],
        custodians=[custodian],
    )
