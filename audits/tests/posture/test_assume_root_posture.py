"""Centralised accounts read by the AssumeRoot audit task: the four calls its policy allows, the
findings made from them, the key recorded as the posture's; suspended and closed accounts skipped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from audits.choices import FindingKind, FindingStatus, PostureStatus
from audits.models import Finding, IssuedRootKey, PostureResult
from audits.posture.service import posture_check_all
from audits.tests.posture_support import RootPostureStore, set_contacts
from breakglass.choices import OrganizationState

pytestmark = pytest.mark.django_db

MEMBER = "222222222222"
ALL = ("BILLING", "OPERATIONS", "SECURITY")
AUDIT_CALLS = [
    "iam:GetLoginProfile",
    "iam:ListAccessKeys",
    "iam:ListMFADevices",
    "iam:ListSigningCertificates",
]


def open_kinds() -> set[str]:
    return set(
        Finding.objects.filter(aws_account_id=MEMBER, status=FindingStatus.OPEN).values_list(
            "kind", flat=True
        )
    )


def result(check: str) -> PostureResult:
    return PostureResult.objects.get(account__account_id=MEMBER, check_name=check)


def test_a_centralised_root_with_credentials_raises_its_findings_within_the_audit_policy(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(MEMBER, centralised=True, hardware=False)
    set_contacts(MEMBER, *ALL)
    root = posture_aws.root(MEMBER)
    root.access_keys, root.certificates, root.virtual_mfa = 1, 2, True

    run = posture_check_all(reference="posture-test")

    assert run.errors == 0
    assert open_kinds() == {
        FindingKind.ROOT_PASSWORD_PRESENT_IN_CENTRALISED_ACCOUNT,
        FindingKind.ROOT_ACCESS_KEYS_PRESENT,
        FindingKind.ROOT_SIGNING_CERTIFICATE_PRESENT,
        FindingKind.ROOT_MFA_VIRTUAL,
        FindingKind.ROOT_MFA_REGISTRY_MISMATCH,  # a virtual device the inventory does not record
    }
    # The reader made exactly the audit task's calls (a key's last use for the one key); nothing was refused.
    assert [call["action"] for call in posture_aws.root_session_calls] == [
        "iam:GetLoginProfile",
        "iam:ListAccessKeys",
        "iam:GetAccessKeyLastUsed",
        "iam:ListMFADevices",
        "iam:ListSigningCertificates",
    ]
    assert posture_aws.refused_actions() == []
    assert result("root_access_keys").detail["keys"][0]["key"] == f"AKIAR{MEMBER}001"
    assert f"AKIAR{MEMBER}001 (Active, created 2020-01-01" in result("root_access_keys").reason
    assert "last used 2026-11-30" in result("root_access_keys").reason
    assert result("root_signing_certificates").detail["certificates"] == [
        f"ROOTCERT{MEMBER}0001",
        f"ROOTCERT{MEMBER}0002",
    ]
    assert result("root_hardware_mfa").detail["virtual_serials"] == [
        f"arn:aws:iam::{MEMBER}:mfa/root-account-mfa-device"
    ]
    key = IssuedRootKey.objects.get()
    assert (key.account_id, key.purpose, key.reference) == (MEMBER, "posture", "posture-test")
    assert result("root_mfa").detail["via"].endswith(f"key {key.access_key_id}")
    assert key.task_policy_arn.endswith("IAMAuditRootUserCredentials")


def test_the_audit_policy_refuses_what_the_old_reader_asked(posture_aws: RootPostureStore) -> None:
    """The summary, the credential report and the virtual devices are outside the audit policy: a
    reader asking them would fail in AWS, so the test above proves the reader asks none of them."""
    answer = boto3.client("sts", region_name="us-east-1").assume_root(
        TargetPrincipal=MEMBER,
        TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"},
        DurationSeconds=60,
    )["Credentials"]
    iam = boto3.client(
        "iam",
        region_name="us-east-1",
        aws_access_key_id=answer["AccessKeyId"],
        aws_secret_access_key=answer["SecretAccessKey"],
        aws_session_token=answer["SessionToken"],
    )
    for call in (iam.get_account_summary, iam.get_credential_report, iam.list_virtual_mfa_devices):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_a_centralised_root_with_a_password_and_no_mfa_is_missing_mfa(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(MEMBER, centralised=True, hardware=False)
    set_contacts(MEMBER, *ALL)
    posture_aws.root(MEMBER).mfa = False
    posture_check_all()
    assert open_kinds() == {
        FindingKind.ROOT_PASSWORD_PRESENT_IN_CENTRALISED_ACCOUNT,
        FindingKind.ROOT_MFA_MISSING,
    }


def test_a_centralised_root_without_credentials_passes(
    posture_aws: RootPostureStore, make_account: Callable[..., Any]
) -> None:
    make_account(MEMBER, centralised=True, hardware=False)
    set_contacts(MEMBER, *ALL)
    root = posture_aws.root(MEMBER)
    root.password, root.mfa = False, False
    posture_check_all()
    assert open_kinds() == set()
    assert result("root_password").status == PostureStatus.PASS
    assert result("root_access_keys").status == PostureStatus.PASS
    assert result("root_signing_certificates").status == PostureStatus.PASS
    assert result("root_mfa").status == PostureStatus.NOT_APPLICABLE


@pytest.mark.parametrize(
    "state", [OrganizationState.SUSPENDED, OrganizationState.PENDING_CLOSURE, OrganizationState.CLOSED]
)
def test_suspended_and_closed_accounts_are_skipped_with_their_reason(
    posture_aws: RootPostureStore, make_account: Callable[..., Any], state: str
) -> None:
    account = make_account(MEMBER, centralised=True, hardware=False)
    posture_aws.root(MEMBER).mfa = False
    posture_check_all()
    assert FindingKind.ROOT_MFA_MISSING in open_kinds()
    calls_before = len(posture_aws.assume_root_calls)

    account.organization_state = state
    account.save()
    run = posture_check_all()

    assert len(posture_aws.assume_root_calls) == calls_before  # AWS was not asked
    [checked] = run.accounts
    assert run.errors == 0
    assert "in AWS Organizations" in checked.skipped
    assert result("root_mfa").status == PostureStatus.ERROR
    assert "Not checked: the account is" in result("alternate_contact_security").reason
    assert FindingKind.ROOT_MFA_MISSING in open_kinds()  # left as it was
