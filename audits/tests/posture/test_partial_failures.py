"""Throttling, a missing role, a suspended account, access denied on contacts: that account's (or
that check's) run ends with a visible reason, the others go on, and no open finding is resolved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from audits.choices import FindingKind, FindingStatus, PostureStatus
from audits.models import Finding, PostureResult
from audits.posture.service import posture_check_all
from audits.tests.posture_support import RootPostureStore, set_contacts

pytestmark = pytest.mark.django_db

BROKEN, HEALTHY = "222222222222", "333333333333"
ALL = ("BILLING", "OPERATIONS", "SECURITY")


def statuses(account_id: str) -> dict[str, str]:
    return dict(
        PostureResult.objects.filter(account__account_id=account_id).values_list("check_name", "status")
    )


def reason(account_id: str, check: str) -> str:
    return PostureResult.objects.get(account__account_id=account_id, check_name=check).reason


@pytest.fixture
def two_accounts(posture_aws: RootPostureStore, make_account: Callable[..., Any]) -> RootPostureStore:
    make_account(BROKEN)
    make_account(HEALTHY)
    set_contacts(BROKEN, *ALL)
    set_contacts(HEALTHY, *ALL)
    # Both start with an open finding each, which an error must not resolve.
    posture_aws.root(BROKEN).mfa = False
    posture_aws.root(HEALTHY).mfa = False
    posture_check_all()
    assert Finding.objects.filter(kind=FindingKind.ROOT_MFA_MISSING, status=FindingStatus.OPEN).count() == 2
    posture_aws.root(BROKEN).mfa = True
    posture_aws.root(HEALTHY).mfa = True
    return posture_aws


def mfa_finding(account_id: str) -> Finding:
    return Finding.objects.get(kind=FindingKind.ROOT_MFA_MISSING, aws_account_id=account_id)


def test_a_missing_role_ends_that_accounts_root_checks_only(two_accounts: RootPostureStore) -> None:
    two_accounts.fail("AssumeRole", BROKEN, "AccessDenied", "not authorized to perform sts:AssumeRole")
    run = posture_check_all()
    broken = statuses(BROKEN)
    assert broken["root_mfa"] == broken["root_access_keys"] == PostureStatus.ERROR
    assert "AssumeRole arn:aws:iam::222222222222:role/BreakGlassPortalPostureRead: AccessDenied" in reason(
        BROKEN, "root_mfa"
    )
    # Contacts come from the management account: still checked.
    assert broken["alternate_contact_security"] == PostureStatus.PASS
    assert mfa_finding(BROKEN).status == FindingStatus.OPEN  # not resolved by an error
    assert mfa_finding(HEALTHY).status == FindingStatus.RESOLVED  # the run went on
    assert run.errors == 1


def test_throttling_beyond_the_retries_is_an_error_on_the_checks_that_needed_the_call(
    two_accounts: RootPostureStore,
) -> None:
    two_accounts.fail("GetAccountSummary", BROKEN, "Throttling", "Rate exceeded")
    posture_check_all()
    assert "GetAccountSummary: Throttling: Rate exceeded" in reason(BROKEN, "root_mfa")
    # The credential report was readable: the certificate check still ran.
    assert statuses(BROKEN)["root_signing_certificates"] == PostureStatus.PASS
    assert mfa_finding(BROKEN).status == FindingStatus.OPEN


def test_throttling_that_passes_within_the_retries_is_no_error(
    two_accounts: RootPostureStore, monkeypatch: Any
) -> None:
    from audits.posture import aws

    monkeypatch.setattr(aws, "MAX_ATTEMPTS", 3)
    two_accounts.fail("GetAccountSummary", BROKEN, "Throttling", "Rate exceeded", times=1)
    posture_check_all()
    assert statuses(BROKEN)["root_mfa"] == PostureStatus.PASS
    assert mfa_finding(BROKEN).status == FindingStatus.RESOLVED


def test_a_suspended_account_ends_with_its_reason(two_accounts: RootPostureStore) -> None:
    suspended = "The account is suspended."
    two_accounts.fail("AssumeRole", BROKEN, "AccessDenied", suspended)
    two_accounts.fail("GetAlternateContact", BROKEN, "AccessDeniedException", suspended)
    run = posture_check_all()
    assert set(statuses(BROKEN).values()) <= {PostureStatus.ERROR, PostureStatus.NOT_APPLICABLE}
    assert suspended in reason(BROKEN, "alternate_contact_billing")
    assert mfa_finding(BROKEN).status == FindingStatus.OPEN
    assert [account.account_id for account in run.accounts if account.errors] == [BROKEN]


def test_access_denied_on_contacts_leaves_contact_findings_as_they_were(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(BROKEN)
    posture_check_all()  # no contacts: three findings
    assert (
        Finding.objects.filter(kind=FindingKind.ALTERNATE_CONTACT_MISSING, status=FindingStatus.OPEN).count()
        == 3
    )
    set_contacts(BROKEN, *ALL)
    posture_aws.fail("GetAlternateContact", BROKEN, "AccessDeniedException", "not authorized")
    posture_check_all()
    assert statuses(BROKEN)["alternate_contact_security"] == PostureStatus.ERROR
    assert (
        Finding.objects.filter(kind=FindingKind.ALTERNATE_CONTACT_MISSING, status=FindingStatus.OPEN).count()
        == 3
    )
    # The root checks, through the member role, still ran.
    assert statuses(BROKEN)["root_mfa"] == PostureStatus.PASS


def test_an_organization_feature_check_refused_is_an_error_not_a_finding(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(HEALTHY, centralised=True)
    posture_aws.fail(
        "ListOrganizationsFeatures", "123456789012", "ServiceAccessNotEnabledException", "trusted access off"
    )
    run = posture_check_all()
    assert run.organization is not None
    assert run.organization.status == PostureStatus.ERROR
    assert not Finding.objects.filter(kind=FindingKind.CENTRAL_ROOT_MANAGEMENT_OFF).exists()
    # Without knowing the features, a centralised account is read through its role.
    assert posture_aws.assume_root_calls == []
    assert statuses(HEALTHY)["root_mfa"] == PostureStatus.PASS


def test_assume_root_refused_is_an_error_on_that_account(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(BROKEN, centralised=True)
    make_account(HEALTHY, centralised=True)
    posture_aws.fail("AssumeRoot", BROKEN, "AccessDenied", "not allowed")
    posture_check_all()
    assert "AWS refused AssumeRoot" in reason(BROKEN, "root_password")
    assert "AccessDenied: not allowed" in reason(BROKEN, "root_password")
    assert statuses(HEALTHY)["root_password"] == PostureStatus.FAIL  # the default root keeps a password


def test_an_unexpected_error_in_one_account_does_not_end_the_run(
    two_accounts: RootPostureStore, monkeypatch: Any
) -> None:
    from audits.posture import service

    original = service.facts_of

    def broken(account: Any) -> Any:
        if account.account_id == BROKEN:
            raise KeyError("surprise")
        return original(account)

    monkeypatch.setattr(service, "facts_of", broken)
    posture_check_all()
    assert "unexpected KeyError" in reason(BROKEN, "root_mfa")
    assert mfa_finding(BROKEN).status == FindingStatus.OPEN
    assert mfa_finding(HEALTHY).status == FindingStatus.RESOLVED
