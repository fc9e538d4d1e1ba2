"""The five AssumeRoot tasks, each exactly the calls its task policy allows (boto3 only: no database).

Every function takes clients made from the AssumeRoot session and a ``calls`` list it appends each
AWS call to (``iam:ListAccessKeys`` ...), for the evidence. IAM calls omit ``UserName``: inside an
AssumeRoot session that means the member account's root user. A refusal or failure half-way raises
``TaskFailed`` with what was already done, so the result never hides a deletion that happened.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from audits.sources.aws import ConfigError, describe_error, error_code

Failure = (ClientError, BotoCoreError, ConfigError)

#: A virtual MFA device's serial is an ARN ``arn:aws:iam::<account>:mfa/<name>``; hardware TOTP
#: tokens have a plain serial (``GAHT…``) and FIDO security keys an ``:u2f/`` ARN.
VIRTUAL_MFA_MARKER = ":mfa/"
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})


class TaskFailed(Exception):
    """A task stopped: ``reason`` for people, ``found`` what it had done (JSON-safe)."""

    def __init__(self, reason: str, found: dict[str, Any]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.found = found


def _stamp(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value or "")


@dataclass(frozen=True)
class RootKey:
    access_key_id: str
    status: str
    created: str
    # From ``GetAccessKeyLastUsed`` (the audit policy allows it): "" when never used.
    last_used: str = ""
    last_used_service: str = ""


@dataclass(frozen=True)
class RootCertificate:
    certificate_id: str
    status: str
    uploaded: str


@dataclass(frozen=True)
class RootCredentials:
    """The member account's root credentials as the audit task reads them."""

    login_profile: bool
    login_profile_created: str
    access_keys: tuple[RootKey, ...]
    mfa_serials: tuple[str, ...]
    certificates: tuple[RootCertificate, ...]

    @property
    def virtual_mfa_serials(self) -> list[str]:
        return sorted(serial for serial in self.mfa_serials if VIRTUAL_MFA_MARKER in serial)

    def as_found(self) -> dict[str, Any]:
        return {
            "password_present": self.login_profile,
            "login_profile_created": self.login_profile_created,
            "access_keys": [asdict(key) for key in self.access_keys],
            "mfa_serials": list(self.mfa_serials),
            "virtual_mfa_serials": self.virtual_mfa_serials,
            "signing_certificates": [asdict(cert) for cert in self.certificates],
        }

    @classmethod
    def from_found(cls, found: dict[str, Any]) -> RootCredentials:
        """Back from ``as_found`` (what an outcome's ``found`` holds)."""
        return cls(
            login_profile=bool(found.get("password_present")),
            login_profile_created=str(found.get("login_profile_created", "")),
            access_keys=tuple(RootKey(**key) for key in found.get("access_keys", [])),
            mfa_serials=tuple(found.get("mfa_serials", [])),
            certificates=tuple(RootCertificate(**cert) for cert in found.get("signing_certificates", [])),
        )


def _fail(step: str, exc: BaseException, found: dict[str, Any]) -> TaskFailed:
    if error_code(exc) in EXPIRED_CODES:
        return TaskFailed(
            f"{step}: the AssumeRoot credentials expired before the task finished ({describe_error(exc)}); "
            "what is listed was done. Run the task again for the rest.",
            found,
        )
    return TaskFailed(f"{step}: {describe_error(exc)}", found)


def _login_profile(iam: Any, calls: list[str], found: dict[str, Any]) -> tuple[bool, str]:
    calls.append("iam:GetLoginProfile")
    try:
        profile = iam.get_login_profile()["LoginProfile"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return False, ""
        raise _fail("GetLoginProfile", exc, found) from exc
    except Failure as exc:
        raise _fail("GetLoginProfile", exc, found) from exc
    return True, _stamp(profile.get("CreateDate"))


def _pages(iam: Any, operation: str, key: str, calls: list[str], found: dict[str, Any]) -> list[Any]:
    name = "".join(part.title() for part in operation.split("_")).replace("Mfa", "MFA")
    calls.append(f"iam:{name}")
    items: list[Any] = []
    try:
        for page in iam.get_paginator(operation).paginate():
            items.extend(page.get(key, []))
    except Failure as exc:
        raise _fail(name, exc, found) from exc
    return items


def audit_root_credentials(iam: Any, calls: list[str]) -> RootCredentials:
    """``IAMAuditRootUserCredentials``: the login profile, access keys (with when each was last
    used), MFA devices and signing certificates of the root user (reads the policy allows, no other)."""
    found: dict[str, Any] = {}
    login, created = _login_profile(iam, calls, found)
    keys = _pages(iam, "list_access_keys", "AccessKeyMetadata", calls, found)
    used = {key["AccessKeyId"]: _last_used(iam, key["AccessKeyId"], calls, found) for key in keys}
    devices = _pages(iam, "list_mfa_devices", "MFADevices", calls, found)
    certificates = _pages(iam, "list_signing_certificates", "Certificates", calls, found)
    return RootCredentials(
        login_profile=login,
        login_profile_created=created,
        access_keys=tuple(
            RootKey(
                key["AccessKeyId"],
                str(key.get("Status", "")),
                _stamp(key.get("CreateDate")),
                *used[key["AccessKeyId"]],
            )
            for key in keys
        ),
        mfa_serials=tuple(sorted(device["SerialNumber"] for device in devices)),
        certificates=tuple(
            RootCertificate(
                cert["CertificateId"], str(cert.get("Status", "")), _stamp(cert.get("UploadDate"))
            )
            for cert in certificates
        ),
    )


def _last_used(iam: Any, key_id: str, calls: list[str], found: dict[str, Any]) -> tuple[str, str]:
    calls.append("iam:GetAccessKeyLastUsed")
    try:
        last = iam.get_access_key_last_used(AccessKeyId=key_id).get("AccessKeyLastUsed") or {}
    except Failure as exc:
        raise _fail("GetAccessKeyLastUsed", exc, found) from exc
    service = str(last.get("ServiceName", ""))
    return _stamp(last.get("LastUsedDate")), "" if service == "N/A" else service


def delete_root_credentials(iam: Any, calls: list[str]) -> dict[str, Any]:
    """``IAMDeleteRootUserCredentials``, in the order AWS's console follows: the login profile, the
    access keys, the signing certificates, then each MFA device deactivated (and a virtual one
    deleted). ``found`` lists exactly what was deleted."""
    found: dict[str, Any] = {
        "login_profile_deleted": False,
        "access_keys_deleted": [],
        "signing_certificates_deleted": [],
        "mfa_devices_deactivated": [],
        "virtual_mfa_devices_deleted": [],
    }
    present, _ = _login_profile(iam, calls, found)
    if present:
        _act(iam, "delete_login_profile", {}, calls, found)
        found["login_profile_deleted"] = True
    for key in _pages(iam, "list_access_keys", "AccessKeyMetadata", calls, found):
        _act(iam, "delete_access_key", {"AccessKeyId": key["AccessKeyId"]}, calls, found)
        found["access_keys_deleted"].append(key["AccessKeyId"])
    for cert in _pages(iam, "list_signing_certificates", "Certificates", calls, found):
        _act(iam, "delete_signing_certificate", {"CertificateId": cert["CertificateId"]}, calls, found)
        found["signing_certificates_deleted"].append(cert["CertificateId"])
    for device in _pages(iam, "list_mfa_devices", "MFADevices", calls, found):
        serial = device["SerialNumber"]
        _act(iam, "deactivate_mfa_device", {"SerialNumber": serial}, calls, found)
        found["mfa_devices_deactivated"].append(serial)
        if VIRTUAL_MFA_MARKER in serial:
            _act(iam, "delete_virtual_mfa_device", {"SerialNumber": serial}, calls, found)
            found["virtual_mfa_devices_deleted"].append(serial)
    return found


def create_root_password(iam: Any, calls: list[str]) -> dict[str, Any]:
    """``IAMCreateRootUserPassword``: a login profile without a password (AWS refuses one in an
    AssumeRoot session), so the root user can use "Forgot password" with the root e-mail inbox."""
    found: dict[str, Any] = {"login_profile_created": False, "already_present": False}
    calls.append("iam:CreateLoginProfile")
    try:
        iam.create_login_profile()
    except ClientError as exc:
        if error_code(exc) == "EntityAlreadyExists":
            found["already_present"] = True
            return found
        raise _fail("CreateLoginProfile", exc, found) from exc
    except Failure as exc:
        raise _fail("CreateLoginProfile", exc, found) from exc
    found["login_profile_created"] = True
    return found


def unlock_bucket_policy(s3: Any, bucket_name: str, calls: list[str]) -> dict[str, Any]:
    """``S3UnlockBucketPolicy``: keep the bucket's policy text (evidence), then delete it."""
    found: dict[str, Any] = {"bucket": bucket_name, "removed_policy": None, "policy_deleted": False}
    calls.append("s3:GetBucketPolicy")
    try:
        found["removed_policy"] = s3.get_bucket_policy(Bucket=bucket_name)["Policy"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchBucketPolicy":
            raise _fail("GetBucketPolicy", exc, found) from exc
        found["note"] = "The bucket has no policy: nothing to remove."
        return found
    except Failure as exc:
        raise _fail("GetBucketPolicy", exc, found) from exc
    calls.append("s3:DeleteBucketPolicy")
    try:
        s3.delete_bucket_policy(Bucket=bucket_name)
    except Failure as exc:
        raise _fail("DeleteBucketPolicy", exc, found) from exc
    found["policy_deleted"] = True
    return found


def unlock_queue_policy(sqs: Any, queue_url: str, calls: list[str]) -> dict[str, Any]:
    """``SQSUnlockQueuePolicy``: keep the queue's policy text (evidence), then remove it (an empty
    ``Policy`` attribute)."""
    found: dict[str, Any] = {"queue_url": queue_url, "removed_policy": None, "policy_deleted": False}
    calls.append("sqs:GetQueueAttributes")
    try:
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])
    except Failure as exc:
        raise _fail("GetQueueAttributes", exc, found) from exc
    policy = (attributes.get("Attributes") or {}).get("Policy")
    if not policy:
        found["note"] = "The queue has no policy: nothing to remove."
        return found
    found["removed_policy"] = policy
    calls.append("sqs:SetQueueAttributes")
    try:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": ""})
    except Failure as exc:
        raise _fail("SetQueueAttributes", exc, found) from exc
    found["policy_deleted"] = True
    return found


def _act(iam: Any, operation: str, params: dict[str, str], calls: list[str], found: dict[str, Any]) -> None:
    name = "".join(part.title() for part in operation.split("_")).replace("Mfa", "MFA")
    calls.append(f"iam:{name}")
    try:
        getattr(iam, operation)(**params)
    except Failure as exc:
        raise _fail(name, exc, found) from exc
