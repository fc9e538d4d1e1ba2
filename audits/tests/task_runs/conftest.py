"""Fixtures of the AssumeRoot session tests: moto with the AssumeRoot extension (ar-aws's
``root_aws``), a centralised member account with a quorum of two, and signed-in clients."""

from __future__ import annotations

from typing import Any

import pytest

from audits.tests.assume_root.conftest import MEMBER, root_aws  # noqa: F401 (the fixture)
from breakglass.choices import GovernanceMode
from breakglass.tests.factories import AwsAccountFactory, GrantFactory


@pytest.fixture
def member(requester: Any, approver: Any, second_approver: Any, custodian: Any) -> Any:
    """data-lake: a centralised member account, two approvers of whom both must approve."""
    account = AwsAccountFactory(
        name="data-lake",
        account_id=MEMBER,
        governance_mode=GovernanceMode.CENTRALISED,
        approval_quorum=2,
        ticket_required=False,
    )
    account.approvers.set([approver, second_approver])
    account.custodians.set([custodian])
    GrantFactory(user=requester, account=account)
    return account


@pytest.fixture(autouse=True)
def _tasks_run_in_place(eager_celery: None) -> None:
    """Every test here runs its Celery tasks in place (the root conftest's ``eager_celery``)."""
