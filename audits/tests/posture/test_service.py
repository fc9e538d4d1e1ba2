"""Each posture check raises its finding where it holds and resolves it when it no longer does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from audits.choices import FindingKind, FindingStatus, PostureStatus, Severity
from audits.models import Finding, PostureResult
from audits.posture.service import posture_check_all
from audits.tests.posture_support import MANAGEMENT_ACCOUNT, RootPostureStore, set_contacts
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

ALL = ("BILLING", "OPERATIONS", "SECURITY")
MEMBER = "222222222222"


def open_kinds(account_id: str = MEMBER) -> set[str]:
    return set(
        Finding.objects.filter(aws_account_id=account_id, status=FindingStatus.OPEN).values_list(
            "kind", flat=True
        )
    )


def result(check: str, account_id: str = MEMBER) -> PostureResult:
    return PostureResult.objects.get(account__account_id=account_id, check_name=check)


def test_a_well_kept_account_passes_every_check(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(MEMBER)
    set_contacts(MEMBER, *ALL)
    run = posture_check_all()
    assert run.errors == 0
    assert run.failing == 0
    assert open_kinds() == set()
    statuses = dict(
        PostureResult.objects.filter(account__account_id=MEMBER).values_list("check_name", "status")
    )
    assert statuses["root_mfa"] == PostureStatus.PASS
    assert statuses["root_password"] == PostureStatus.NOT_APPLICABLE
    assert statuses["alternate_contact_security"] == PostureStatus.PASS


@pytest.mark.parametrize(
    ("change", "kind", "severity"),
    [
        ({"access_keys": 1}, FindingKind.ROOT_ACCESS_KEYS_PRESENT, Severity.CRITICAL),
        ({"mfa": False}, FindingKind.ROOT_MFA_MISSING, Severity.CRITICAL),
        ({"virtual_mfa": True}, FindingKind.ROOT_MFA_VIRTUAL, Severity.HIGH),
        ({"certificates": 2}, FindingKind.ROOT_SIGNING_CERTIFICATE_PRESENT, Severity.HIGH),
    ],
)
def test_each_root_check_raises_its_finding_and_resolves_it(
    posture_aws: RootPostureStore,
    make_account: Callable[..., Any],
    change: dict[str, Any],
    kind: str,
    severity: str,
) -> None:
    make_account(MEMBER)
    set_contacts(MEMBER, *ALL)
    root = posture_aws.root(MEMBER)
    for name, value in change.items():
        setattr(root, name, value)
    posture_check_all()
    finding = Finding.objects.get(aws_account_id=MEMBER, kind=kind)
    assert finding.status == FindingStatus.OPEN
    assert finding.severity == severity
    assert LedgerEntry.objects.filter(action="finding.raised", target_id=str(finding.uuid)).exists()

    posture_check_all()  # the same condition: still one finding
    assert Finding.objects.filter(aws_account_id=MEMBER, kind=kind).count() == 1

    posture_aws.roots[MEMBER] = type(root)()
    posture_check_all()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED
    assert LedgerEntry.objects.filter(action="finding.resolved", target_id=str(finding.uuid)).exists()


def test_a_virtual_mfa_is_medium_outside_production(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(MEMBER, environment="sandbox")
    set_contacts(MEMBER, *ALL)
    posture_aws.root(MEMBER).virtual_mfa = True
    posture_check_all()
    assert Finding.objects.get(kind=FindingKind.ROOT_MFA_VIRTUAL).severity == Severity.MEDIUM


def test_access_keys_are_described_from_the_credential_report(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(MEMBER)
    posture_aws.root(MEMBER).access_keys = 2
    posture_check_all()
    detail = result("root_access_keys").detail
    assert [key["key"] for key in detail["keys"]] == ["1", "2"]
    assert detail["keys"][0]["last_used"].startswith("2026-11-30")
    assert "last used 2026-11-30" in Finding.objects.get(kind=FindingKind.ROOT_ACCESS_KEYS_PRESENT).summary


def test_one_finding_per_missing_contact_type(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(MEMBER)
    set_contacts(MEMBER, "BILLING")
    posture_check_all()
    keys = set(
        Finding.objects.filter(kind=FindingKind.ALTERNATE_CONTACT_MISSING).values_list(
            "dedupe_key", flat=True
        )
    )
    assert keys == {
        f"alternate_contact_missing:{MEMBER}:OPERATIONS",
        f"alternate_contact_missing:{MEMBER}:SECURITY",
    }

    set_contacts(MEMBER, "OPERATIONS", "SECURITY")
    posture_check_all()
    assert open_kinds() == set()


def test_the_management_accounts_own_contacts_are_read_without_its_id(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(MANAGEMENT_ACCOUNT, environment="management")
    set_contacts(MANAGEMENT_ACCOUNT, "SECURITY")
    posture_check_all()
    assert result("alternate_contact_security", MANAGEMENT_ACCOUNT).status == PostureStatus.PASS
    assert result("alternate_contact_billing", MANAGEMENT_ACCOUNT).status == PostureStatus.FAIL


def test_a_centralised_account_is_read_through_assume_root(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(MEMBER, centralised=True, hardware=False)
    set_contacts(MEMBER, *ALL)
    root = posture_aws.root(MEMBER)
    root.password, root.mfa = True, False
    posture_check_all()
    [call] = posture_aws.assume_root_calls
    assert call["target"] == MEMBER
    assert call["duration"] <= 900
    assert call["policy"].endswith("root-task/IAMAuditRootUserCredentials")
    assert call["host"] == "sts.us-east-1.amazonaws.com"  # regional, never the global endpoint
    assert "AssumeRoot" in result("root_password").detail["via"]
    assert open_kinds() == {
        FindingKind.ROOT_PASSWORD_PRESENT_IN_CENTRALISED_ACCOUNT,
        FindingKind.ROOT_MFA_MISSING,
    }

    root.password = False  # no credentials left at all: MFA no longer applies (CIS 2.1.1)
    posture_check_all()
    assert open_kinds() == set()
    assert result("root_mfa").status == PostureStatus.NOT_APPLICABLE


def test_a_centralised_account_uses_its_role_while_root_sessions_are_off(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    posture_aws.features = {"RootCredentialsManagement"}
    make_account(MEMBER, centralised=True, hardware=False)
    posture_aws.root(MEMBER).mfa = False
    run = posture_check_all()
    assert posture_aws.assume_root_calls == []
    assert "role" in result("root_mfa").detail["via"]
    assert run.organization is not None
    assert run.organization.status == PostureStatus.FAIL
    org = Finding.objects.get(kind=FindingKind.CENTRAL_ROOT_MANAGEMENT_OFF)
    assert "RootSessions off" in org.summary
    assert org.aws_account_id == ""

    posture_aws.features = {"RootCredentialsManagement", "RootSessions"}
    posture_check_all()
    org.refresh_from_db()
    assert org.status == FindingStatus.RESOLVED


def test_the_registry_is_compared_with_aws(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(MEMBER, hardware=True)
    make_account("333333333333", hardware=False)
    posture_aws.root(MEMBER).mfa = False  # the inventory holds a key AWS does not know
    posture_check_all()
    assert FindingKind.ROOT_MFA_REGISTRY_MISMATCH in open_kinds(MEMBER)
    # AWS knows an MFA the inventory does not record.
    assert FindingKind.ROOT_MFA_REGISTRY_MISMATCH in open_kinds("333333333333")


def test_a_finding_resolved_by_hand_reopens_when_the_check_fails_again(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(MEMBER)
    posture_aws.root(MEMBER).mfa = False
    posture_check_all()
    finding = Finding.objects.get(kind=FindingKind.ROOT_MFA_MISSING)
    finding.status = FindingStatus.RESOLVED
    finding.save()
    posture_check_all()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    assert LedgerEntry.objects.filter(action="finding.reopened", target_id=str(finding.uuid)).exists()


def test_a_false_positive_stays_one(posture_aws: RootPostureStore, make_account: Callable[..., Any]) -> None:
    make_account(MEMBER)
    posture_aws.root(MEMBER).virtual_mfa = True
    posture_check_all()
    Finding.objects.filter(kind=FindingKind.ROOT_MFA_VIRTUAL).update(status=FindingStatus.FALSE_POSITIVE)
    posture_check_all()
    assert Finding.objects.get(kind=FindingKind.ROOT_MFA_VIRTUAL).status == FindingStatus.FALSE_POSITIVE


def test_a_critical_finding_is_alerted_once(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(MEMBER)
    posture_aws.root(MEMBER).mfa = False
    posture_check_all()
    finding = Finding.objects.get(kind=FindingKind.ROOT_MFA_MISSING)
    assert finding.alerted_at is not None
    first = finding.alerted_at
    posture_check_all()
    finding.refresh_from_db()
    assert finding.alerted_at == first
