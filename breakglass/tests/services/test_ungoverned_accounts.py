"""Accounts the organization import found are ungoverned until an administrator sets who approves and
who keeps custody; ungoverned, closing or closed accounts are not requestable (``rules``, one home)."""

from __future__ import annotations

from typing import Any

import pytest

from breakglass import rules, services
from breakglass.choices import GovernanceMode
from breakglass.models import AwsAccount
from breakglass.tests.factories import AwsAccountFactory, GrantFactory
from breakglass.tests.lifecycle_helpers import make_request
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db


def test_an_ungoverned_account_is_not_requestable_even_with_a_live_grant(requester: Any) -> None:
    account = AwsAccountFactory(governed=False)
    GrantFactory(user=requester, account=account)

    refusal = rules.refusal_to_request(requester, account)

    assert refusal is not None
    assert "not governed yet" in refusal
    assert not AwsAccount.objects.filter(rules.requestable_accounts_q(requester)).exists()
    with pytest.raises(DomainError, match="not governed yet"):
        make_request(requester, account)


@pytest.mark.parametrize("state", ["PENDING_CLOSURE", "CLOSED"])
def test_a_closing_or_closed_account_is_not_requestable(requester: Any, state: str) -> None:
    account = AwsAccountFactory(organization_state=state)
    GrantFactory(user=requester, account=account)
    assert "in the organization" in (rules.refusal_to_request(requester, account) or "")
    assert not AwsAccount.objects.filter(rules.requestable_accounts_q(requester)).exists()


def test_the_requestable_filter_agrees_with_the_refusal(requester: Any) -> None:
    accounts = [
        AwsAccountFactory(),
        AwsAccountFactory(governed=False),
        AwsAccountFactory(organization_state="SUSPENDED"),
        AwsAccountFactory(organization_state="CLOSED"),
        AwsAccountFactory(organization_state="ACTIVE"),
    ]
    for account in accounts:
        GrantFactory(user=requester, account=account)
    by_query = set(
        AwsAccount.objects.filter(rules.requestable_accounts_q(requester)).values_list("pk", flat=True)
    )
    by_rule = {a.pk for a in accounts if rules.refusal_to_request(requester, a) is None}
    assert by_query == by_rule
    assert len(by_rule) == 3


def _update(actor: Any, account: AwsAccount, approvers: list[Any], custodians: list[Any]) -> AwsAccount:
    return services.account_update(actor=actor, account=account, approvers=approvers, custodians=custodians)


def test_saving_approvers_and_custodians_governs_the_account(
    administrator: Any, approver: Any, custodian: Any
) -> None:
    account = AwsAccountFactory(governed=False, approval_quorum=1)

    updated = _update(administrator, account, [approver], [custodian])

    assert updated.governed
    entry = LedgerEntry.objects.get(action="account.updated")
    assert entry.data["changes"]["governed"] == {"from": False, "to": True}


def test_a_classic_account_without_custodians_stays_ungoverned(administrator: Any, approver: Any) -> None:
    account = AwsAccountFactory(governed=False, approval_quorum=1)
    assert not _update(administrator, account, [approver], []).governed


def test_a_centralised_account_needs_no_custodian_to_be_governed(administrator: Any, approver: Any) -> None:
    account = AwsAccountFactory(governed=False, approval_quorum=1, governance_mode=GovernanceMode.CENTRALISED)
    assert _update(administrator, account, [approver], []).governed


def test_approvers_below_the_quorum_leave_it_ungoverned(
    administrator: Any, approver: Any, custodian: Any
) -> None:
    account = AwsAccountFactory(governed=False, approval_quorum=2)
    with pytest.raises(DomainError):
        _update(administrator, account, [approver], [custodian])
    account.refresh_from_db()
    assert not account.governed
