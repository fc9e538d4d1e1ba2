"""Each AssumeRoot task end to end through the pages (issue 12): request (with its bucket or queue),
a quorum of two approvals behind step-up, check-out, "Run task" behind a step-up naming the task and
the account, then the result page, the stored evidence and the ledger, with boto3 against moto's
extended AssumeRoot. Failures are shown to the holder with AWS's reason and may be retried."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audits.models import IssuedRootKey
from audits.tests.assume_root.conftest import MEMBER, as_account
from audits.tests.posture_support import RootPostureStore
from breakglass.models import AccessRequest, RootTaskRun
from ledger.models import LedgerEntry
from portal.identity import STEP_UP_PURPOSE_KEY

pytestmark = pytest.mark.django_db

LOCKED = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}],
    }
)


def _url(name: str, request: AccessRequest) -> str:
    return reverse(name, kwargs={"uuid": request.uuid})


def _file(client: Client, member: Any, task: str, **target: str) -> AccessRequest:
    response = client.post(
        reverse("breakglass:request_create"),
        {
            "account": member.pk,
            "root_task": task,
            "justification": "Root of data-lake must be cleaned up after the migration audit.",
            "starts_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 30,
            **target,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return AccessRequest.objects.get(root_task=task)


def _approved_and_checked_out(
    signed_in: Callable[..., Client],
    request: AccessRequest,
    requester: Any,
    approver: Any,
    second_approver: Any,
) -> Client:
    for person in (approver, second_approver):
        signed_in(person, stepped_up=True).post(
            _url("breakglass:request_decide", request), {"decision": "approve", "comment": "In scope."}
        )
        request.refresh_from_db()
        if person == approver:
            assert request.status == "pending"  # quorum of two: one approval is not enough
    assert request.status == "approved"
    holder = signed_in(requester, stepped_up=True)
    holder.post(_url("breakglass:request_check_out", request))
    request.refresh_from_db()
    assert request.status == "active"
    return holder


def _ledger(request: AccessRequest) -> list[str]:
    return list(
        LedgerEntry.objects.filter(target_id=str(request.uuid))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def _setup_bucket() -> dict[str, str]:
    with as_account(MEMBER):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="locked-bucket")
        s3.put_bucket_policy(Bucket="locked-bucket", Policy=LOCKED)
    return {"bucket_name": "locked-bucket"}


def _setup_queue() -> dict[str, str]:
    with as_account(MEMBER):
        url = boto3.client("sqs", region_name="us-east-1").create_queue(
            QueueName="orders", Attributes={"Policy": LOCKED}
        )["QueueUrl"]
    return {"queue_url": str(url)}


def _bucket_policy() -> str | None:
    with as_account(MEMBER):
        try:
            return str(
                boto3.client("s3", region_name="us-east-1").get_bucket_policy(Bucket="locked-bucket")[
                    "Policy"
                ]
            )
        except Exception:
            return None


TASKS = {
    "assume_root_audit_credentials": (dict, "Password present"),
    "assume_root_delete_credentials": (dict, "Login profile deleted"),
    "assume_root_create_password": (dict, "Login profile created"),
    "assume_root_s3_unlock": (_setup_bucket, "Removed policy"),
    "assume_root_sqs_unlock": (_setup_queue, "Removed policy"),
}


@pytest.mark.parametrize("task", sorted(TASKS))
def test_each_task_runs_end_to_end_through_approval(
    task: str,
    root_aws: RootPostureStore,
    signed_in: Callable[..., Client],
    member: Any,
    requester: Any,
    approver: Any,
    second_approver: Any,
) -> None:
    setup, shown = TASKS[task]
    if task == "assume_root_create_password":
        root_aws.root(MEMBER).password = False
    target = setup()
    request = _file(signed_in(requester), member, task, **target)
    holder = _approved_and_checked_out(signed_in, request, requester, approver, second_approver)
    detail = holder.get(_url("breakglass:request_detail", request)).content.decode()
    assert "Run task" in detail
    assert "Reveal the root password" not in detail

    # Without a fresh MFA check the button leads to the step-up page, which names task and account.
    stale = signed_in(requester)
    response = stale.post(_url("audits:request_run_task", request))
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    purpose = stale.session[STEP_UP_PURPOSE_KEY]["text"]
    assert request.code in purpose
    assert "data-lake" in purpose
    assert MEMBER in purpose
    assert not RootTaskRun.objects.exists()

    response = holder.post(_url("audits:request_run_task", request), follow=True)

    run = RootTaskRun.objects.get(request=request)
    assert run.status == "succeeded", run.error
    assert response.redirect_chain[-1][0] == reverse(
        "breakglass:task_run_detail", kwargs={"uuid": request.uuid, "run_uuid": run.uuid}
    )
    result = response.content.decode()
    assert "Succeeded" in result
    assert shown in result
    assert run.access_key_id in result
    request.refresh_from_db()
    assert request.status == "returned"
    assert run.access_key_id in request.work_done
    key = IssuedRootKey.objects.get(access_key_id=run.access_key_id)
    assert (key.purpose, key.reference, key.account_id) == ("session", request.code, MEMBER)
    assert _ledger(request)[-4:] == [
        "access_request.active",
        "root_task.started",
        "root_task.succeeded",
        "access_request.returned",
    ]
    succeeded = LedgerEntry.objects.get(action="root_task.succeeded", target_id=str(request.uuid))
    assert succeeded.data["found"] == run.found
    # Nobody saw a secret: no AssumeRoot secret on any page or in the ledger.
    for secret in root_aws.issued_secrets:
        assert secret not in result
        assert secret not in json.dumps(succeeded.data)
    if task == "assume_root_s3_unlock":
        assert json.loads(run.found["removed_policy"]) == json.loads(LOCKED)
        assert _bucket_policy() is None
    # One run per approved session: the button is gone and a second press is refused.
    again = holder.post(_url("audits:request_run_task", request), follow=True)
    assert "one run per approved session" in again.content.decode() or "returned" in again.content.decode()
    assert RootTaskRun.objects.filter(request=request).count() == 1


def test_a_failure_is_shown_with_its_reason_and_may_be_retried(
    root_aws: RootPostureStore,
    signed_in: Callable[..., Client],
    member: Any,
    requester: Any,
    approver: Any,
    second_approver: Any,
) -> None:
    request = _file(signed_in(requester), member, "assume_root_s3_unlock", bucket_name="missing-bucket")
    holder = _approved_and_checked_out(signed_in, request, requester, approver, second_approver)

    response = holder.post(_url("audits:request_run_task", request), follow=True)

    failed = RootTaskRun.objects.get(request=request)
    assert failed.status == "failed"
    assert failed.error
    html = response.content.decode()
    assert "Failed" in html
    assert failed.error.split(":")[0] in html
    assert "Run task again" in holder.get(_url("breakglass:request_detail", request)).content.decode()
    request.refresh_from_db()
    assert request.status == "active"
    assert "root_task.failed" in _ledger(request)

    _setup_bucket_named("missing-bucket")
    holder.post(_url("audits:request_run_task", request))

    assert list(RootTaskRun.objects.filter(request=request).values_list("status", flat=True)) == [
        "failed",
        "succeeded",
    ]


def _setup_bucket_named(name: str) -> None:
    with as_account(MEMBER):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=name)
        s3.put_bucket_policy(Bucket=name, Policy=LOCKED)


def test_assume_root_refused_by_aws_is_shown_to_the_holder(
    root_aws: RootPostureStore,
    signed_in: Callable[..., Client],
    member: Any,
    requester: Any,
    approver: Any,
    second_approver: Any,
) -> None:
    root_aws.fail("AssumeRoot", MEMBER, "RegionDisabledException", "STS is not activated in this region.")
    request = _file(signed_in(requester), member, "assume_root_audit_credentials")
    holder = _approved_and_checked_out(signed_in, request, requester, approver, second_approver)

    html = holder.post(_url("audits:request_run_task", request), follow=True).content.decode()

    run = RootTaskRun.objects.get(request=request)
    assert run.status == "failed"
    assert run.access_key_id == ""
    assert "RegionDisabled" in run.error
    assert "RegionDisabled" in html
    assert not IssuedRootKey.objects.exists()


def test_only_the_holder_may_press_the_button(
    root_aws: RootPostureStore,
    signed_in: Callable[..., Client],
    member: Any,
    requester: Any,
    approver: Any,
    second_approver: Any,
) -> None:
    request = _file(signed_in(requester), member, "assume_root_audit_credentials")
    _approved_and_checked_out(signed_in, request, requester, approver, second_approver)

    response = signed_in(approver, stepped_up=True).post(
        _url("audits:request_run_task", request), follow=True
    )

    assert "Only the holder" in response.content.decode()
    assert not RootTaskRun.objects.exists()
    assert not root_aws.assume_root_calls


def test_the_result_appears_in_the_sessions_report(
    root_aws: RootPostureStore,
    signed_in: Callable[..., Client],
    member: Any,
    requester: Any,
    approver: Any,
    second_approver: Any,
    auditor: Any,
) -> None:
    from audits.reports.sessions import session_rows

    request = _file(signed_in(requester), member, "assume_root_delete_credentials")
    holder = _approved_and_checked_out(signed_in, request, requester, approver, second_approver)
    holder.post(_url("audits:request_run_task", request))

    [row] = [row for row in session_rows(user=auditor) if row["code"] == request.code]
    run = RootTaskRun.objects.get(request=request)
    assert row["task_result"] == run.found
    assert run.access_key_id in row["task_runs"][0]
    assert row["task_runs"][0].startswith("succeeded")
