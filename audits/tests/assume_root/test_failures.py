"""The failures AWS documents for AssumeRoot, and what a root session may not do: each task ends with
``ok=False`` and a reason a person can act on, never an exception."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from audits.assume_root import TaskTarget, run_root_task
from audits.models import IssuedRootKey
from audits.tests.assume_root.conftest import MEMBER, OTHER
from audits.tests.posture_support import RootPostureStore

pytestmark = pytest.mark.django_db

AUDIT_POLICY = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"


def run(task: str = "assume_root_audit_credentials") -> Any:
    return run_root_task(task, MEMBER, TaskTarget(), purpose="session", reference="BG-TEST")


def test_region_disabled(root_aws: RootPostureStore, settings: Any) -> None:
    settings.PORTAL_AWS_REGION = "eu-west-1"
    root_aws.disabled_regions = {"eu-west-1"}
    outcome = run()
    assert not outcome.ok
    assert "not activated in region eu-west-1" in outcome.error
    assert "RegionDisabledException" in outcome.error
    assert outcome.access_key_id == ""
    assert not IssuedRootKey.objects.exists()
    assert root_aws.assume_root_calls[0]["host"] == "sts.eu-west-1.amazonaws.com"


def test_caller_not_the_management_account(root_aws: RootPostureStore, settings: Any) -> None:
    # A role in a member account (moto maps the assumed role's keys to that account): a portal
    # configured with the wrong account.
    settings.PORTAL_AWS_MANAGEMENT_ROLE_ARN = f"arn:aws:iam::{OTHER}:role/BreakGlassPortal"
    outcome = run()
    assert not outcome.ok
    assert "must be in the management account or the IAM delegated administrator" in outcome.error
    assert not IssuedRootKey.objects.exists()


def test_expired_token(root_aws: RootPostureStore) -> None:
    root_aws.fail(
        "AssumeRoot", MEMBER, "ExpiredTokenException", "The security token included in the request is expired"
    )
    outcome = run()
    assert not outcome.ok
    assert "session had expired" in outcome.error
    assert not IssuedRootKey.objects.exists()


def test_root_sessions_off(root_aws: RootPostureStore) -> None:
    root_aws.features = {"RootCredentialsManagement"}
    outcome = run()
    assert not outcome.ok
    assert "AWS refused AssumeRoot" in outcome.error


def test_a_session_that_expires_mid_task_reports_what_it_did(root_aws: RootPostureStore) -> None:
    root = root_aws.root(MEMBER)
    root.access_keys = 2
    root_aws.expire_after_calls = 3  # GetLoginProfile, DeleteLoginProfile, ListAccessKeys, then expired
    outcome = run("assume_root_delete_credentials")
    assert not outcome.ok
    assert "expired before the task finished" in outcome.error
    assert outcome.found["login_profile_deleted"] is True
    assert outcome.found["access_keys_deleted"] == []
    assert IssuedRootKey.objects.filter(access_key_id=outcome.access_key_id).exists()
    assert root.key_ids(MEMBER) == [f"AKIAR{MEMBER}001", f"AKIAR{MEMBER}002"]


def _audit_session() -> boto3.session.Session:
    credentials = boto3.client("sts", region_name="us-east-1").assume_root(
        TargetPrincipal=MEMBER, TaskPolicyArn={"arn": AUDIT_POLICY}, DurationSeconds=60
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="us-east-1",
    )


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("iam", lambda iam: iam.get_account_summary()),
        ("iam", lambda iam: iam.generate_credential_report()),
        ("iam", lambda iam: iam.list_virtual_mfa_devices()),
        ("iam", lambda iam: iam.delete_login_profile()),
        ("iam", lambda iam: iam.create_login_profile()),
        ("s3", lambda s3: s3.list_buckets()),
        ("sqs", lambda sqs: sqs.list_queues()),
    ],
)
def test_an_audit_session_is_refused_outside_its_policy(
    root_aws: RootPostureStore, service: str, call: Any
) -> None:
    client = _audit_session().client(service)
    with pytest.raises(ClientError) as refused:
        call(client)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert root_aws.refused_actions()


def test_an_audit_session_acts_on_the_member_root_and_never_on_a_user(root_aws: RootPostureStore) -> None:
    iam = _audit_session().client("iam")
    assert iam.get_login_profile()["LoginProfile"]["UserName"] == "root"
    assert boto3.client("sts").get_caller_identity()["Account"] != MEMBER
    assert _audit_session().client("sts").get_caller_identity()["Account"] == MEMBER
    with pytest.raises(ClientError) as refused:
        iam.list_access_keys(UserName="alice")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
