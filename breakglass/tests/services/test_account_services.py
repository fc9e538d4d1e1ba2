from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from breakglass import services
from breakglass.models import AwsAccount
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db


def create(actor: Any, approvers: list[Any], custodians: list[Any], **overrides: Any) -> AwsAccount:
    fields: dict[str, Any] = {
        "account_id": "111122223333",
        "name": "billing-prod",
        "root_email": "aws-root+billing@example.org",
        "environment": "production",
        "governance_mode": "classic",
        "approval_quorum": 1,
        "max_session_minutes": 60,
        "ticket_required": True,
        **overrides,
    }
    return services.account_create(actor=actor, approvers=approvers, custodians=custodians, **fields)


def test_it_creates_an_account_and_records_it_in_the_ledger(
    administrator: Any, approver: Any, custodian: Any
) -> None:
    account = create(administrator, [approver], [custodian])

    entry = LedgerEntry.objects.get(action="account.created")
    assert entry.target_id == str(account.uuid)
    assert entry.actor_id == administrator.pk
    assert entry.data["approvers"] == [approver.username]
    # The root email is recorded masked: the ledger is exported to auditors.
    assert entry.data["root_email"] == "a***@example.org"


@pytest.mark.parametrize("bad_id", ["12345678901", "1234567890123", "12345678901a", "", "1234 5678 9012"])
def test_it_refuses_an_account_id_that_is_not_twelve_digits(
    administrator: Any, approver: Any, custodian: Any, bad_id: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        create(administrator, [approver], [custodian], account_id=bad_id)
    assert "account_id" in caught.value.message_dict
    assert not AwsAccount.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_the_bad_id_message_says_what_an_account_id_looks_like(administrator: Any, approver: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        create(administrator, [approver], [], account_id="12345")
    assert caught.value.message_dict["account_id"] == [
        "An AWS account id is exactly 12 digits, for example 123456789012."
    ]


def test_it_refuses_a_duplicate_account_id(administrator: Any, approver: Any) -> None:
    create(administrator, [approver], [])
    with pytest.raises(ValidationError) as caught:
        create(administrator, [approver], [], name="other")
    assert "account_id" in caught.value.message_dict
    assert AwsAccount.objects.count() == 1


def test_it_refuses_a_quorum_larger_than_the_number_of_approvers(administrator: Any, approver: Any) -> None:
    with pytest.raises(DomainError) as caught:
        create(administrator, [approver], [], approval_quorum=2)
    assert "needs at least 2 approvers" in caught.value.message_dict["approval_quorum"][0]


def test_it_refuses_approvers_and_custodians_without_the_role(
    administrator: Any, requester: Any, approver: Any
) -> None:
    with pytest.raises(DomainError) as caught:
        create(administrator, [requester], [requester])
    assert "rita.requester" in caught.value.message_dict["approvers"][0]
    assert "rita.requester" in caught.value.message_dict["custodians"][0]


def test_only_an_administrator_may_create_accounts(auditor: Any, approver: Any) -> None:
    with pytest.raises(DomainError):
        create(auditor, [approver], [])
    assert not AwsAccount.objects.exists()


def test_it_fails_closed_when_the_ledger_cannot_be_written(
    administrator: Any, approver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr("ledger.services.record", broken)
    with pytest.raises(RuntimeError):
        create(administrator, [approver], [])
    assert not AwsAccount.objects.exists()


def test_an_update_records_what_changed(
    administrator: Any, new_account: AwsAccount, approver: Any, second_approver: Any, custodian: Any
) -> None:
    services.account_update(
        actor=administrator,
        account=new_account,
        approvers=[approver, second_approver],
        custodians=[custodian],
        approval_quorum=2,
        name="log-archive-2",
    )
    new_account.refresh_from_db()
    assert new_account.approval_quorum == 2
    changes = LedgerEntry.objects.get(action="account.updated").data["changes"]
    assert changes["approval_quorum"] == {"from": 1, "to": 2}
    assert changes["name"] == {"from": "log-archive", "to": "log-archive-2"}
    assert changes["approvers"]["to"] == ["alan.approver", "anna.approver"]
    assert "custodians" not in changes


def test_the_root_email_is_masked_for_display(new_account: AwsAccount) -> None:
    assert new_account.root_email_masked == "a***@example.org"


def test_an_account_name_with_a_right_to_left_override_is_refused(administrator: Any, approver: Any) -> None:
    with pytest.raises(DomainError, match="U\\+202E") as refused:
        create(administrator, [approver], [], name="payments\u202edorp")
    assert "name" in refused.value.message_dict
    assert not AwsAccount.objects.exists()
