"""The organization import against moto: what it adds, updates and marks, and that a second run with
nothing new changes nothing and writes nothing to the ledger."""

from __future__ import annotations

from typing import Any

import pytest

from audits.choices import OrganizationChangeKind as Kind
from audits.choices import SyncStatus, SyncTrigger
from audits.models import OrganizationChange
from audits.organization.service import organization_sync
from audits.tests.organization_support import set_account_state
from breakglass.models import AwsAccount
from breakglass.tests.factories import AwsAccountFactory
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def sync() -> Any:
    return organization_sync(trigger=SyncTrigger.COMMAND)


def test_every_account_arrives_ungoverned_with_its_ou_path_tags_and_state(org: dict[str, str]) -> None:
    run = sync()

    assert run.status == SyncStatus.SUCCEEDED, run.reason
    assert run.accounts_seen == 5
    accounts = {account.name: account for account in AwsAccount.objects.all()}
    assert set(accounts) == {"master", "Shared services", "Payments", "Sandbox one", "Log archive"}
    payments = accounts["Payments"]
    assert payments.account_id == org["Payments"]
    assert payments.root_email == "payments@example.com"
    assert payments.ou_path == "Root/Workloads/Prod"
    assert payments.organization_tags == {"Environment": "prod", "Team": "pay"}
    assert payments.organization_state == "ACTIVE"
    assert accounts["Shared services"].ou_path == "Root"
    assert accounts["Log archive"].ou_path == "Root/Security"
    assert not any(account.governed for account in accounts.values())
    assert all(account.approvers.count() == 0 for account in accounts.values())
    assert set(run.changes.values_list("kind", flat=True)) == {Kind.ADDED}
    assert LedgerEntry.objects.filter(action="organization.account_added").count() == 5


def test_the_sync_reads_whether_centralised_root_access_is_on(org: dict[str, str], features: Any) -> None:
    features.enabled = ["RootCredentialsManagement"]
    run = sync()
    assert run.root_credentials_management is True
    assert run.root_sessions is False
    assert run.organization_id.startswith("o-")
    assert run.management_account_id == org["master"]


def test_trusted_access_off_reads_as_both_features_off_and_still_imports(
    org: dict[str, str], features: Any
) -> None:
    features.error_code = "ServiceAccessNotEnabledException"
    run = sync()
    assert run.status == SyncStatus.SUCCEEDED
    assert (run.root_credentials_management, run.root_sessions) == (False, False)
    assert "ServiceAccessNotEnabledException" in run.features_reason


# moto knows no IAM error shape named AccessDenied (AWS's generic code); it still answers with it.
@pytest.mark.filterwarnings("ignore:Exception\\(_IamError\\):UserWarning")
def test_features_refused_are_unknown_with_the_reason_and_accounts_still_import(
    org: dict[str, str], features: Any
) -> None:
    features.error_code = "AccessDenied"
    run = sync()
    assert run.status == SyncStatus.SUCCEEDED
    assert run.root_credentials_management is None
    assert run.root_sessions is None
    assert run.features_reason.startswith("AccessDenied")
    assert AwsAccount.objects.count() == 5


def test_a_second_run_changes_nothing_and_writes_no_ledger_entry(org: dict[str, str]) -> None:
    sync()
    entries = LedgerEntry.objects.count()
    before = list(AwsAccount.objects.order_by("account_id").values())

    second = sync()

    assert second.status == SyncStatus.SUCCEEDED
    assert second.changes_made == 0
    assert not second.changes.exists()
    assert LedgerEntry.objects.count() == entries
    assert list(AwsAccount.objects.order_by("account_id").values()) == before


def test_each_change_is_one_row_and_one_ledger_entry(org: dict[str, str], organizations: Any) -> None:
    sync()
    payments, sandbox = org["Payments"], org["Sandbox one"]
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    prod_parent = organizations.list_parents(ChildId=payments)["Parents"][0]["Id"]
    organizations.move_account(AccountId=payments, SourceParentId=prod_parent, DestinationParentId=root_id)
    organizations.tag_resource(ResourceId=sandbox, Tags=[{"Key": "Team", "Value": "lab"}])
    set_account_state(org["Log archive"], "SUSPENDED")
    entries = LedgerEntry.objects.count()

    run = sync()

    changes = {
        (change.account.account_id, change.kind): change for change in run.changes.select_related("account")
    }
    assert set(changes) == {
        (payments, Kind.MOVED),
        (sandbox, Kind.TAGS_CHANGED),
        (org["Log archive"], Kind.STATE_CHANGED),
    }
    moved = changes[(payments, Kind.MOVED)]
    assert (moved.before, moved.after) == ("Root/Workloads/Prod", "Root")
    assert (
        changes[(org["Log archive"], Kind.STATE_CHANGED)].before,
        changes[(org["Log archive"], Kind.STATE_CHANGED)].after,
    ) == ("ACTIVE", "SUSPENDED")
    new_entries = LedgerEntry.objects.order_by("sequence")[entries:]
    assert sorted(entry.action for entry in new_entries) == [
        "organization.account_moved",
        "organization.account_state_changed",
        "organization.account_tags_changed",
    ]
    assert all(entry.data["sync"] == str(run.uuid) for entry in new_entries)
    assert run.changes_made == 3


def test_a_closed_account_is_marked_not_deleted_and_is_not_requestable(org: dict[str, str]) -> None:
    sync()
    set_account_state(org["Sandbox one"], "CLOSED")
    run = sync()
    account = AwsAccount.objects.get(account_id=org["Sandbox one"])
    assert account.organization_state == "CLOSED"
    assert run.changes.get().kind == Kind.STATE_CHANGED


def test_the_legacy_status_is_read_when_state_is_missing(org: dict[str, str], monkeypatch: Any) -> None:
    from moto.organizations.models import FakeAccount

    original = FakeAccount.describe

    def legacy(self: FakeAccount) -> dict[str, Any]:
        described = original(self)
        described.pop("State")
        described["Status"] = "PENDING_CLOSURE" if self.name == "Payments" else "ACTIVE"
        return described

    monkeypatch.setattr(FakeAccount, "describe", legacy)
    sync()
    assert AwsAccount.objects.get(account_id=org["Payments"]).organization_state == "PENDING_CLOSURE"
    assert AwsAccount.objects.get(account_id=org["master"]).organization_state == "ACTIVE"


def test_an_account_that_left_is_marked_and_kept(org: dict[str, str], organizations: Any) -> None:
    sync()
    organizations.remove_account_from_organization(AccountId=org["Shared services"])

    run = sync()

    account = AwsAccount.objects.get(account_id=org["Shared services"])
    assert account.left_organization_at is not None
    assert run.changes.get().kind == Kind.LEFT
    assert (
        LedgerEntry.objects.filter(action="organization.account_left", target_id=str(account.uuid)).count()
        == 1
    )
    # Marked once: the next sync has nothing more to say about it.
    assert sync().changes_made == 0


def test_renames_and_email_changes_are_ledgered_with_the_email_masked(org: dict[str, str]) -> None:
    sync()
    AwsAccount.objects.filter(account_id=org["Payments"]).update(
        name="Old name", root_email="old@example.com"
    )
    run = sync()
    kinds = {change.kind: change for change in run.changes.all()}
    assert set(kinds) == {Kind.RENAMED, Kind.EMAIL_CHANGED}
    assert (kinds[Kind.RENAMED].before, kinds[Kind.RENAMED].after) == ("Old name", "Payments")
    assert kinds[Kind.EMAIL_CHANGED].after == "p***@example.com"
    entry = LedgerEntry.objects.get(action="organization.account_email_changed")
    assert "payments@example.com" not in str(entry.data)


def test_an_account_entered_by_hand_is_linked_and_stays_governed(org: dict[str, str]) -> None:
    existing = AwsAccountFactory(
        account_id=org["Payments"], name="Payments", root_email="payments@example.com"
    )
    assert existing.governed

    run = sync()

    existing.refresh_from_db()
    assert existing.governed
    assert existing.ou_path == "Root/Workloads/Prod"
    kinds = set(OrganizationChange.objects.filter(sync=run, account=existing).values_list("kind", flat=True))
    assert Kind.LINKED in kinds
    assert Kind.MOVED not in kinds


def test_an_account_entered_by_hand_outside_the_organization_is_left_alone(org: dict[str, str]) -> None:
    outside = AwsAccountFactory(account_id="999999999999")
    sync()
    outside.refresh_from_db()
    assert outside.left_organization_at is None
    assert outside.organization_state == ""


def test_environment_from_the_tag(org: dict[str, str], settings: Any) -> None:
    settings.PORTAL_ORG_ENVIRONMENT_FROM = "tag"
    settings.PORTAL_ORG_ENVIRONMENT_TAG = "environment"  # tag keys match without regard to case
    sync()
    environments = dict(AwsAccount.objects.values_list("name", "environment"))
    assert environments["Payments"] == "production"
    assert environments["Sandbox one"] == "sandbox"
    # No tag: production, the strictest, until an administrator says otherwise.
    assert environments["Log archive"] == "production"


def test_environment_from_the_ou(org: dict[str, str], settings: Any, organizations: Any) -> None:
    settings.PORTAL_ORG_ENVIRONMENT_FROM = "ou"
    sync()
    environments = dict(AwsAccount.objects.values_list("name", "environment"))
    assert environments["Payments"] == "production"  # Root/Workloads/Prod
    assert environments["Sandbox one"] == "development"  # Root/Workloads/Dev
    assert environments["Log archive"] == "security"  # Root/Security

    # Moving an account to another OU moves its environment too, as one more change.
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    security = next(
        unit["Id"]
        for unit in organizations.list_organizational_units_for_parent(ParentId=root_id)[
            "OrganizationalUnits"
        ]
        if unit["Name"] == "Security"
    )
    parent = organizations.list_parents(ChildId=org["Payments"])["Parents"][0]["Id"]
    organizations.move_account(AccountId=org["Payments"], SourceParentId=parent, DestinationParentId=security)
    run = sync()
    assert set(run.changes.values_list("kind", flat=True)) == {Kind.MOVED, Kind.ENVIRONMENT_CHANGED}
    assert AwsAccount.objects.get(account_id=org["Payments"]).environment == "security"
