"""Which task policy and how many seconds each AssumeRoot task gets, and what a target must look
like (pure: no Django, no AWS).

The task codes and policy ARNs are ``breakglass.root_tasks``'s (one home); this module only adds the
duration. AWS allows 0 to 900 seconds; each task asks for the shortest that still covers its calls
when every call uses all its attempts: a call is at most ``CALL_READ_TIMEOUT`` seconds per attempt,
``CALL_ATTEMPTS`` attempts, with botocore's back-off of at most 20 s between attempts. A session that
outlives its task is a live root credential for nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from breakglass.root_tasks import BY_CODE

AUDIT = "assume_root_audit_credentials"
CREATE_PASSWORD = "assume_root_create_password"
DELETE_CREDENTIALS = "assume_root_delete_credentials"
S3_UNLOCK = "assume_root_s3_unlock"
SQS_UNLOCK = "assume_root_sqs_unlock"

#: Per attempt, so one stuck connection cannot eat the session (the default is 60 s).
CALL_READ_TIMEOUT = 10.0
CALL_CONNECT_TIMEOUT = 5.0
CALL_ATTEMPTS = 3

#: Seconds per task. The unlock tasks and the password make two calls: 2 x 3 x 15 s + back-off fits
#: in 120 s. The audit makes four list calls (each may page): 240 s. Deleting makes four lists and
#: a delete per credential (root has at most 2 keys, 2 certificates, 8 MFA devices: ~20 calls); most
#: calls answer in well under a second, so 300 s leaves room for throttling without a spare session.
DURATION_SECONDS: dict[str, int] = {
    AUDIT: 240,
    CREATE_PASSWORD: 120,
    DELETE_CREDENTIALS: 300,
    S3_UNLOCK: 120,
    SQS_UNLOCK: 120,
}
MAX_DURATION_SECONDS = 900

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class TaskSpec:
    code: str
    policy_arn: str
    duration_seconds: int


def task_spec(code: str) -> TaskSpec | None:
    """The AssumeRoot task with ``code``; None for a task AssumeRoot does not cover."""
    task = BY_CODE.get(code)
    if task is None or not task.is_assume_root or code not in DURATION_SECONDS:
        return None
    return TaskSpec(code=code, policy_arn=task.assume_root_policy, duration_seconds=DURATION_SECONDS[code])


def refusal_of_account(account_id: str) -> str | None:
    if not _ACCOUNT.match(account_id):
        return f"{account_id!r} is not an AWS account id (12 digits)."
    return None


def refusal_of_bucket(bucket_name: str) -> str | None:
    if not _BUCKET.match(bucket_name) or ".." in bucket_name:
        return (
            "Name the S3 bucket whose policy to remove (3 to 63 lower-case letters, digits, dots, hyphens)."
        )
    return None


def queue_account(queue_url: str) -> str | None:
    """The account id in an SQS queue URL (``https://sqs.<region>.amazonaws.com/<account>/<name>``)."""
    parts = urlsplit(queue_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    pieces = parts.path.strip("/").split("/")
    if len(pieces) != 2 or not _ACCOUNT.match(pieces[0]) or not pieces[1]:
        return None
    return pieces[0]


def refusal_of_queue(queue_url: str, account_id: str) -> str | None:
    owner = queue_account(queue_url)
    if owner is None:
        return "Give the SQS queue's URL (https://sqs.<region>.amazonaws.com/<account>/<queue name>)."
    if owner != account_id:
        # A root session acts only in its own account: the queue must belong to the target account.
        return f"The queue belongs to account {owner}, not to {account_id}."
    return None


def queue_region(queue_url: str) -> str | None:
    """The region in an SQS queue URL's host (``sqs.eu-west-1.amazonaws.com``), if it names one."""
    host = urlsplit(queue_url).hostname or ""
    match = re.match(r"^(?:sqs\.)?([a-z]{2}(?:-[a-z]+)+-\d)\.", host)
    return match.group(1) if match else None
