"""Each AssumeRoot task through boto3 against moto's extended AssumeRoot: the issued key recorded
before use, exactly the calls the task policy allows, the result in ``found``."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from audits.assume_root import TaskTarget, run_root_task
from audits.assume_root.policies import DURATION_SECONDS
from audits.models import IssuedRootKey
from audits.tests.assume_root.conftest import MEMBER, OTHER, as_account
from audits.tests.posture_support import RootPostureStore
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

LOCKED = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}],
    }
)


def run(task: str, target: TaskTarget | None = None, account: str = MEMBER) -> Any:
    return run_root_task(task, account, target or TaskTarget(), purpose="session", reference="BG-TEST")


def test_audit_reads_the_four_lists_and_records_the_key_first(root_aws: RootPostureStore) -> None:
    root = root_aws.root(MEMBER)
    root.access_keys, root.certificates, root.virtual_mfa = 2, 1, True
    seen: list[bool] = []
    root_aws.on_root_call = lambda key: seen.append(IssuedRootKey.objects.filter(access_key_id=key).exists())

    outcome = run("assume_root_audit_credentials")

    assert outcome.ok, outcome.error
    assert seen  # the key was in IssuedRootKey before any call made with it
    assert all(seen)
    found = outcome.found
    assert found["password_present"] is True
    assert [key["access_key_id"] for key in found["access_keys"]] == [
        f"AKIAR{MEMBER}001",
        f"AKIAR{MEMBER}002",
    ]
    assert found["access_keys"][0]["status"] == "Active"
    assert found["access_keys"][0]["created"].startswith("2020-01-01")
    assert found["mfa_serials"] == [f"arn:aws:iam::{MEMBER}:mfa/root-account-mfa-device"]
    assert found["virtual_mfa_serials"] == found["mfa_serials"]
    assert [cert["certificate_id"] for cert in found["signing_certificates"]] == [f"ROOTCERT{MEMBER}0001"]
    assert found["access_keys"][0]["last_used"].startswith("2026-11-30")
    assert found["access_keys"][0]["last_used_service"] == "s3"
    assert outcome.calls == [
        "iam:GetLoginProfile",
        "iam:ListAccessKeys",
        "iam:GetAccessKeyLastUsed",
        "iam:GetAccessKeyLastUsed",
        "iam:ListMFADevices",
        "iam:ListSigningCertificates",
    ]
    assert root_aws.refused_actions() == []
    [call] = root_aws.assume_root_calls
    assert call == {
        "target": MEMBER,
        "policy": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials",
        "duration": DURATION_SECONDS["assume_root_audit_credentials"],
        "host": "sts.us-east-1.amazonaws.com",
    }
    key = IssuedRootKey.objects.get(access_key_id=outcome.access_key_id)
    assert (key.account_id, key.purpose, key.reference) == (MEMBER, "session", "BG-TEST")
    assert key.task_policy_arn == call["policy"]
    entry = LedgerEntry.objects.get(action="assume_root.key_issued")
    assert entry.data["access_key_id"] == outcome.access_key_id
    [secret] = root_aws.issued_secrets
    kept = json.dumps([entry.data, found, outcome.error, list(IssuedRootKey.objects.values())], default=str)
    assert secret not in kept


def test_audit_of_a_root_without_credentials(root_aws: RootPostureStore) -> None:
    root = root_aws.root(MEMBER)
    root.password, root.mfa = False, False
    outcome = run("assume_root_audit_credentials")
    assert outcome.ok
    assert outcome.found["password_present"] is False  # GetLoginProfile answered NoSuchEntity
    assert outcome.found["access_keys"] == outcome.found["mfa_serials"] == []


def test_delete_removes_every_credential_in_aws_order(root_aws: RootPostureStore) -> None:
    root = root_aws.root(MEMBER)
    root.access_keys, root.certificates, root.virtual_mfa = 2, 2, True

    outcome = run("assume_root_delete_credentials")

    assert outcome.ok, outcome.error
    serial = f"arn:aws:iam::{MEMBER}:mfa/root-account-mfa-device"
    assert outcome.found == {
        "login_profile_deleted": True,
        "access_keys_deleted": [f"AKIAR{MEMBER}001", f"AKIAR{MEMBER}002"],
        "signing_certificates_deleted": [f"ROOTCERT{MEMBER}0001", f"ROOTCERT{MEMBER}0002"],
        "mfa_devices_deactivated": [serial],
        "virtual_mfa_devices_deleted": [serial],
    }
    assert [call["action"] for call in root_aws.root_session_calls] == [
        "iam:GetLoginProfile",
        "iam:DeleteLoginProfile",
        "iam:ListAccessKeys",
        "iam:DeleteAccessKey",
        "iam:DeleteAccessKey",
        "iam:ListSigningCertificates",
        "iam:DeleteSigningCertificate",
        "iam:DeleteSigningCertificate",
        "iam:ListMFADevices",
        "iam:DeactivateMFADevice",
        "iam:DeleteVirtualMFADevice",
    ]
    assert root_aws.assume_root_calls[0]["policy"].endswith("IAMDeleteRootUserCredentials")
    after = run("assume_root_audit_credentials").found
    assert not after["password_present"]
    assert after["access_keys"] == after["mfa_serials"] == after["signing_certificates"] == []


def test_delete_keeps_a_hardware_device_record_after_deactivating_it(root_aws: RootPostureStore) -> None:
    outcome = run("assume_root_delete_credentials")  # default root: password and a hardware token
    assert outcome.ok
    assert outcome.found["mfa_devices_deactivated"] == [f"GAHT{MEMBER[-8:]}"]
    assert outcome.found["virtual_mfa_devices_deleted"] == []


def test_create_password_re_allows_recovery_without_a_password(root_aws: RootPostureStore) -> None:
    root_aws.root(MEMBER).password = False
    outcome = run("assume_root_create_password")
    assert outcome.ok, outcome.error
    assert outcome.found == {"login_profile_created": True, "already_present": False}
    assert outcome.calls == ["iam:CreateLoginProfile"]
    assert root_aws.root(MEMBER).password is True
    assert root_aws.assume_root_calls[0]["policy"].endswith("IAMCreateRootUserPassword")

    again = run("assume_root_create_password")
    assert again.ok
    assert again.found == {"login_profile_created": False, "already_present": True}


def _bucket(account: str, name: str, policy: str | None) -> None:
    with as_account(account):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=name)
        if policy:
            s3.put_bucket_policy(Bucket=name, Policy=policy)


def _bucket_policy(account: str, name: str) -> str | None:
    with as_account(account):
        try:
            return str(boto3.client("s3", region_name="us-east-1").get_bucket_policy(Bucket=name)["Policy"])
        except ClientError:
            return None


def test_s3_unlock_keeps_the_policy_then_deletes_it(root_aws: RootPostureStore) -> None:
    _bucket(MEMBER, "locked-bucket", LOCKED)
    outcome = run("assume_root_s3_unlock", TaskTarget(bucket_name="locked-bucket"))
    assert outcome.ok, outcome.error
    assert json.loads(outcome.found["removed_policy"]) == json.loads(LOCKED)
    assert outcome.found["policy_deleted"] is True
    assert outcome.calls == ["s3:GetBucketPolicy", "s3:DeleteBucketPolicy"]
    assert _bucket_policy(MEMBER, "locked-bucket") is None
    assert root_aws.assume_root_calls[0]["duration"] == DURATION_SECONDS["assume_root_s3_unlock"]


def test_s3_unlock_acts_only_in_the_target_account(root_aws: RootPostureStore) -> None:
    _bucket(OTHER, "someone-elses", LOCKED)
    outcome = run("assume_root_s3_unlock", TaskTarget(bucket_name="someone-elses"))
    assert not outcome.ok
    assert "AccessDenied" in outcome.error
    assert _bucket_policy(OTHER, "someone-elses") is not None


def test_s3_unlock_of_a_bucket_without_policy_changes_nothing(root_aws: RootPostureStore) -> None:
    _bucket(MEMBER, "open-bucket", None)
    outcome = run("assume_root_s3_unlock", TaskTarget(bucket_name="open-bucket"))
    assert outcome.ok
    assert outcome.found["policy_deleted"] is False
    assert outcome.calls == ["s3:GetBucketPolicy"]


def _queue(account: str, name: str, policy: str) -> str:
    with as_account(account):
        sqs = boto3.client("sqs", region_name="us-east-1")
        return str(sqs.create_queue(QueueName=name, Attributes={"Policy": policy})["QueueUrl"])


def _queue_policy(account: str, url: str) -> str | None:
    with as_account(account):
        attributes = boto3.client("sqs", region_name="us-east-1").get_queue_attributes(
            QueueUrl=url, AttributeNames=["Policy"]
        )
    return attributes.get("Attributes", {}).get("Policy")


def test_sqs_unlock_keeps_the_policy_then_removes_it(root_aws: RootPostureStore) -> None:
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*"}],
        }
    )
    url = _queue(MEMBER, "locked-queue", policy)
    assert f"/{MEMBER}/" in url
    outcome = run("assume_root_sqs_unlock", TaskTarget(queue_url=url))
    assert outcome.ok, outcome.error
    assert json.loads(outcome.found["removed_policy"])["Statement"][0]["Effect"] == "Deny"
    assert outcome.calls == ["sqs:GetQueueAttributes", "sqs:SetQueueAttributes"]
    assert _queue_policy(MEMBER, url) is None


def test_sqs_unlock_refuses_a_queue_of_another_account_before_asking_aws(root_aws: RootPostureStore) -> None:
    url = _queue(OTHER, "elsewhere", LOCKED.replace('"*", "Resource"', '"sqs:*", "Resource"'))
    outcome = run("assume_root_sqs_unlock", TaskTarget(queue_url=url))
    assert not outcome.ok
    assert f"belongs to account {OTHER}" in outcome.error
    assert root_aws.assume_root_calls == []
    assert not IssuedRootKey.objects.exists()


@pytest.mark.parametrize(
    ("task", "target", "problem"),
    [
        ("assume_root_s3_unlock", TaskTarget(bucket_name="No_Such"), "Name the S3 bucket"),
        ("assume_root_sqs_unlock", TaskTarget(queue_url="not a url"), "Give the SQS queue's URL"),
        ("change_account_settings", TaskTarget(), "is not an AssumeRoot task"),
    ],
)
def test_a_bad_target_is_refused_without_assume_root(
    root_aws: RootPostureStore, task: str, target: TaskTarget, problem: str
) -> None:
    outcome = run(task, target)
    assert not outcome.ok
    assert problem in outcome.error
    assert root_aws.assume_root_calls == []
