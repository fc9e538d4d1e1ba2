"""The AssumeRoot tasks against moto's server (``AWS_ENDPOINT_URL``, as a VPC endpoint would be set in
production): the extension works over HTTP too, and S3 and SQS act in the target account."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from audits.assume_root import TaskTarget, policies, run_root_task
from audits.tests.assume_root.conftest import MEMBER, as_account
from audits.tests.posture_support import RootPostureStore

pytestmark = pytest.mark.django_db

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}],
    }
)


@pytest.fixture
def on_server(
    moto_server: str, root_posture: RootPostureStore, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setattr(policies, "CALL_ATTEMPTS", 1)
    settings.PORTAL_AWS_MANAGEMENT_ROLE_ARN = None
    settings.PORTAL_AWS_REGION = "us-east-1"
    return moto_server


def test_the_five_tasks_over_http(on_server: str, root_posture: RootPostureStore) -> None:
    root = root_posture.root(MEMBER)
    root.access_keys = 1
    with as_account(MEMBER):
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="locked-on-server")
        boto3.client("s3", region_name="us-east-1").put_bucket_policy(
            Bucket="locked-on-server", Policy=POLICY
        )
        url = boto3.client("sqs", region_name="us-east-1").create_queue(
            QueueName="locked-on-server",
            Attributes={"Policy": POLICY.replace('"*", "Resource"', '"sqs:*", "Resource"')},
        )["QueueUrl"]

    def run(task: str, target: TaskTarget | None = None) -> Any:
        outcome = run_root_task(
            task, MEMBER, target or TaskTarget(), purpose="session", reference="BG-SERVER"
        )
        assert outcome.ok, outcome.error
        return outcome.found

    assert run("assume_root_audit_credentials")["access_keys"][0]["access_key_id"] == f"AKIAR{MEMBER}001"
    assert run("assume_root_delete_credentials")["access_keys_deleted"] == [f"AKIAR{MEMBER}001"]
    assert run("assume_root_create_password")["login_profile_created"] is True
    assert json.loads(
        run("assume_root_s3_unlock", TaskTarget(bucket_name="locked-on-server"))["removed_policy"]
    )
    assert run("assume_root_sqs_unlock", TaskTarget(queue_url=url))["policy_deleted"] is True
    assert root_posture.refused_actions() == []
    assert {call["policy"].rsplit("/", 1)[-1] for call in root_posture.assume_root_calls} == {
        "IAMAuditRootUserCredentials",
        "IAMDeleteRootUserCredentials",
        "IAMCreateRootUserPassword",
        "S3UnlockBucketPolicy",
        "SQSUnlockQueuePolicy",
    }
