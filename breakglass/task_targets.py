"""What an AssumeRoot unlock task acts on: an S3 bucket name or an SQS queue URL. Pure: no Django.

The two unlock policies (``S3UnlockBucketPolicy``, ``SQSUnlockQueuePolicy``) delete one resource's
policy in the member account; approvers approve that one resource, so the request names it and the
portal acts on exactly what was approved. Each check returns why a value is refused, or None.
Sources: Amazon S3 "Bucket naming rules"; Amazon SQS queue URLs and "Quotas" (queue names).
"""

from __future__ import annotations

import ipaddress
import re

BUCKET_TASK = "assume_root_s3_unlock"
QUEUE_TASK = "assume_root_sqs_unlock"

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")
# https://sqs.<region>.amazonaws.com[.cn]/<account>/<name>, and the legacy <region>.queue.amazonaws.com.
_QUEUE_URL = re.compile(
    r"https://(?:sqs\.(?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9])\.amazonaws\.com(?:\.cn)?"
    r"|(?P<legacy>[a-z]{2}(?:-[a-z]+)+-[0-9])\.queue\.amazonaws\.com)"
    r"/(?P<account>[0-9]{12})/(?P<name>[A-Za-z0-9_-]{1,80}(?:\.fifo)?)"
)


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` is not an S3 bucket name, or None."""
    if not name:
        return "Give the name of the bucket whose policy locks everyone out."
    if len(name) < 3 or len(name) > 63:
        return "A bucket name is 3 to 63 characters long."
    if not _BUCKET.fullmatch(name):
        return (
            "A bucket name uses lower-case letters, digits, dots and hyphens, and starts and ends with "
            "a letter or digit (the name only, not s3:// or an ARN)."
        )
    if ".." in name or ".-" in name or "-." in name:
        return "A bucket name has no two dots in a row, and no dot next to a hyphen."
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "A bucket name cannot look like an IP address."
    if name.startswith(_BUCKET_RESERVED_PREFIXES) or name.endswith(_BUCKET_RESERVED_SUFFIXES):
        return "That bucket name uses a prefix or suffix AWS reserves; check the name."
    return None


def queue_url_problem(url: str, account_id: str) -> str | None:
    """Why ``url`` is not the URL of an SQS queue in account ``account_id``, or None."""
    if not url:
        return "Give the URL of the queue whose policy locks everyone out."
    found = _QUEUE_URL.fullmatch(url)
    if found is None:
        return (
            "Give the queue URL as the SQS console shows it, for example "
            f"https://sqs.eu-west-1.amazonaws.com/{account_id or '123456789012'}/orders."
        )
    if found.group("account") != account_id:
        return (
            f"This queue belongs to account {found.group('account')}, not to {account_id}: "
            "AssumeRoot acts only inside the requested account."
        )
    return None


def queue_region(url: str) -> str:
    """The region in a queue URL that :func:`queue_url_problem` accepted ("" if none)."""
    found = _QUEUE_URL.fullmatch(url)
    if found is None:
        return ""
    return found.group("region") or found.group("legacy") or ""
