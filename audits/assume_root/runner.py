"""``run_root_task``: the one place the portal calls ``sts:AssumeRoot`` and acts with its credentials.

The call goes to the regional STS endpoint of ``PORTAL_AWS_REGION`` (``audits.sources.aws`` pins
regional endpoints; the global one refuses AssumeRoot) from the management account or the IAM
delegated administrator (``aws_access.management_settings``), with the task's policy and its shortest
duration (``policies.py``). The returned access key id is recorded (``IssuedRootKey``, with its ledger
entry) before the credentials are used; the credentials live only in this function's frame and are
dropped when it returns. AWS errors never raise: they come back as ``ok=False`` with a reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from django.utils import timezone

from audits import aws_access
from audits.assume_root import policies, work
from audits.assume_root.services import issued_key_record
from audits.assume_root.types import TaskOutcome, TaskTarget
from audits.sources.aws import AwsSettings, client, describe_error, error_code, session

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

#: What AWS's refusals of AssumeRoot mean, for the person reading the result.
ASSUME_ROOT_REASONS: dict[str, str] = {
    "RegionDisabledException": (
        "AWS STS is not activated in region {region} for the management account. Activate the "
        "region's STS endpoint (IAM > Account settings) or set PORTAL_AWS_REGION to a region where it is."
    ),
    "ExpiredTokenException": (
        "The portal's own AWS session had expired when it asked for AssumeRoot; nothing was done. "
        "Try again (the portal renews its session)."
    ),
    "ExpiredToken": (
        "The portal's own AWS session had expired when it asked for AssumeRoot; nothing was done. "
        "Try again (the portal renews its session)."
    ),
    "AccessDenied": (
        "AWS refused AssumeRoot: the portal's role must be in the management account or the IAM "
        "delegated administrator, allowed sts:AssumeRoot with this task policy, and root sessions must "
        "be on for the organization."
    ),
    "AccountNotManagementOrDelegatedAdministratorException": (
        "AWS refused AssumeRoot: the portal's role is not in the management account or the IAM "
        "delegated administrator."
    ),
}


def _reason(exc: BaseException, region: str) -> str:
    code = error_code(exc) or ""
    text = ASSUME_ROOT_REASONS.get(code)
    said = describe_error(exc)
    return f"{text.format(region=region)} (AWS: {said})" if text else f"AssumeRoot failed: {said}"


def _root_settings(region: str | None, endpoint_url: str | None) -> AwsSettings:
    return AwsSettings(
        region=region,
        endpoint_url=endpoint_url,
        max_attempts=policies.CALL_ATTEMPTS,
        connect_timeout=policies.CALL_CONNECT_TIMEOUT,
        read_timeout=policies.CALL_READ_TIMEOUT,
    )


def run_root_task(
    task_code: str,
    account_id: str,
    target: TaskTarget,
    *,
    purpose: str,
    reference: str,
    actor: AbstractBaseUser | None = None,
    management: boto3.session.Session | None = None,
) -> TaskOutcome:
    """Call ``sts:AssumeRoot`` for the task, record the issued key, perform exactly the task, drop the
    credentials. ``management``: a session on the management account to reuse (a posture run makes
    one for all accounts); by default one is made from ``aws_access.management_settings``.

    Call it outside any transaction of the caller's: the key's record commits on its own before the
    key is used, and must stay even if the caller's own writes afterwards roll back."""
    started = timezone.now()
    outcome = TaskOutcome(
        task_code=task_code,
        account_id=account_id,
        ok=False,
        error="",
        access_key_id="",
        found={},
        started_at=started,
        finished_at=started,
    )
    spec = policies.task_spec(task_code)
    refusal = _refusal(spec, task_code, account_id, target)
    if spec is None or refusal:
        return _finish(outcome, error=refusal or f"{task_code} is not an AssumeRoot task.")
    outcome.task_policy_arn = spec.policy_arn
    outcome.duration_seconds = spec.duration_seconds
    settings = aws_access.management_settings()
    region = settings.region or "us-east-1"
    try:
        sts = client("sts", settings, boto_session=management or session(settings))
        answer = sts.assume_root(
            TargetPrincipal=account_id,
            TaskPolicyArn={"arn": spec.policy_arn},
            DurationSeconds=spec.duration_seconds,
        )
    except work.Failure as exc:
        return _finish(outcome, error=_reason(exc, region))
    credentials = answer["Credentials"]
    outcome.access_key_id = str(credentials["AccessKeyId"])
    expiration = credentials.get("Expiration")
    issued_key_record(
        access_key_id=outcome.access_key_id,
        account_id=account_id,
        task_code=task_code,
        task_policy_arn=spec.policy_arn,
        purpose=purpose,
        reference=reference,
        issued_at=started,
        expires_at=expiration if isinstance(expiration, datetime) else None,
        actor=actor,
    )
    root = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
    del credentials, answer  # nothing but the session holds the secret from here on
    root_settings = _root_settings(region, settings.endpoint_url)
    try:
        outcome.found = PERFORMERS[task_code](root, root_settings, target, outcome.calls)
    except work.TaskFailed as failure:
        return _finish(outcome, error=failure.reason, found=failure.found)
    except work.Failure as exc:  # a client could not be made (configuration): nothing was called
        return _finish(outcome, error=f"{task_code}: {describe_error(exc)}")
    return _finish(outcome, ok=True)


def _refusal(
    spec: policies.TaskSpec | None, task_code: str, account_id: str, target: TaskTarget
) -> str | None:
    if spec is None:
        return f"{task_code} is not an AssumeRoot task."
    problem = policies.refusal_of_account(account_id)
    if problem:
        return problem
    if task_code == policies.S3_UNLOCK:
        return policies.refusal_of_bucket(target.bucket_name)
    if task_code == policies.SQS_UNLOCK:
        return policies.refusal_of_queue(target.queue_url, account_id)
    return None


def _finish(
    outcome: TaskOutcome, *, ok: bool = False, error: str = "", found: dict[str, Any] | None = None
) -> TaskOutcome:
    outcome.ok = ok
    outcome.error = error
    if found is not None:
        outcome.found = found
    outcome.finished_at = timezone.now()
    if not ok:
        logger.warning("AssumeRoot task %s on %s failed: %s", outcome.task_code, outcome.account_id, error)
    return outcome


Performer = Callable[[boto3.session.Session, AwsSettings, TaskTarget, list[str]], dict[str, Any]]


def _audit(
    root: boto3.session.Session, settings: AwsSettings, _: TaskTarget, calls: list[str]
) -> dict[str, Any]:
    return work.audit_root_credentials(client("iam", settings, boto_session=root), calls).as_found()


def _delete(
    root: boto3.session.Session, settings: AwsSettings, _: TaskTarget, calls: list[str]
) -> dict[str, Any]:
    return work.delete_root_credentials(client("iam", settings, boto_session=root), calls)


def _password(
    root: boto3.session.Session, settings: AwsSettings, _: TaskTarget, calls: list[str]
) -> dict[str, Any]:
    return work.create_root_password(client("iam", settings, boto_session=root), calls)


def _s3(
    root: boto3.session.Session, settings: AwsSettings, target: TaskTarget, calls: list[str]
) -> dict[str, Any]:
    return work.unlock_bucket_policy(client("s3", settings, boto_session=root), target.bucket_name, calls)


def _sqs(
    root: boto3.session.Session, settings: AwsSettings, target: TaskTarget, calls: list[str]
) -> dict[str, Any]:
    region = policies.queue_region(target.queue_url) or settings.region
    sqs = client("sqs", replace(settings, region=region), boto_session=root)
    return work.unlock_queue_policy(sqs, target.queue_url, calls)


PERFORMERS: dict[str, Performer] = {
    policies.AUDIT: _audit,
    policies.DELETE_CREDENTIALS: _delete,
    policies.CREATE_PASSWORD: _password,
    policies.S3_UNLOCK: _s3,
    policies.SQS_UNLOCK: _sqs,
}
