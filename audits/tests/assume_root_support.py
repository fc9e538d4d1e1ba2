"""moto taught what an ``sts:AssumeRoot`` session is (installed with the root posture extension).

A key issued by the extended ``AssumeRoot`` (``posture_support._assume_root``) is remembered in the
store with its task policy. A request made with such a key:

* answers only the actions its task policy allows (``TASK_POLICY_ACTIONS``, AWS's managed policies
  as documented) and ``sts:GetCallerIdentity``; anything else is ``AccessDenied``, recorded in
  ``store.root_session_calls`` either way, so a test can prove a reader stayed within its policy;
* acts only in the session's account: an S3 bucket or SQS queue of another account is refused;
* answers ``ExpiredToken`` once ``store.expire(key)`` was called (the session outlived its duration);
* without ``UserName``, the IAM root-credential calls act on the store's ``Root`` of that account:
  ``GetLoginProfile`` (``NoSuchEntity`` without a password), ``CreateLoginProfile`` (no password
  allowed), ``DeleteLoginProfile``, ``ListAccessKeys``/``DeleteAccessKey``,
  ``GetAccessKeyLastUsed``, ``ListMFADevices``/``DeactivateMFADevice``/``DeleteVirtualMFADevice``,
  ``ListSigningCertificates``/``DeleteSigningCertificate``. With a ``UserName`` they are refused (the
  task policies cover the root user only).

S3 ``GetBucketPolicy``/``DeleteBucketPolicy`` and SQS ``GetQueueAttributes``/``SetQueueAttributes``
are moto's own, in the session's account (moto maps the key to the account of the assumed principal).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, JsonRESTError, _RESTError
from moto.core.responses import ActionResult
from moto.iam.exceptions import IAMException
from moto.iam.responses import IamResponse
from moto.s3.exceptions import S3ClientError
from moto.s3.models import s3_backends

if TYPE_CHECKING:
    from audits.tests.posture_support import Root, RootPostureStore

_PREFIX = "arn:aws:iam::aws:policy/root-task/"
#: What each task policy allows (AWS managed policies ``root-task/*``).
TASK_POLICY_ACTIONS: dict[str, frozenset[str]] = {
    _PREFIX + "IAMAuditRootUserCredentials": frozenset(
        {
            "iam:GetLoginProfile",
            "iam:ListAccessKeys",
            "iam:ListMFADevices",
            "iam:ListSigningCertificates",
            "iam:GetAccessKeyLastUsed",
            "iam:GetUser",
        }
    ),
    _PREFIX + "IAMCreateRootUserPassword": frozenset({"iam:CreateLoginProfile", "iam:GetLoginProfile"}),
    _PREFIX + "IAMDeleteRootUserCredentials": frozenset(
        {
            "iam:DeleteLoginProfile",
            "iam:DeleteAccessKey",
            "iam:DeactivateMFADevice",
            "iam:DeleteVirtualMFADevice",
            "iam:DeleteSigningCertificate",
            "iam:GetLoginProfile",
            "iam:GetUser",
            "iam:ListAccessKeys",
            "iam:ListMFADevices",
            "iam:ListSigningCertificates",
        }
    ),
    _PREFIX + "S3UnlockBucketPolicy": frozenset({"s3:GetBucketPolicy", "s3:DeleteBucketPolicy"}),
    _PREFIX + "SQSUnlockQueuePolicy": frozenset({"sqs:GetQueueAttributes", "sqs:SetQueueAttributes"}),
}
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})
_SCOPE = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
CERTIFICATE_BODY = "-----BEGIN CERTIFICATE-----\nMIIBroot\n-----END CERTIFICATE-----"


def _store() -> RootPostureStore:
    from audits.tests import posture_support

    return posture_support._the_store()


def _scope(self: Any) -> tuple[str, str]:
    """The access key and the service a request was signed for."""
    match = _SCOPE.search(self.headers.get("Authorization", "") or "")
    if not match:
        return "", ""
    return match.group(1), match.group(3)


def _refuse(self: Any, service: str, code: str, message: str) -> None:
    """Raise ``code`` in the shape the service's protocol has (S3 XML, SQS JSON, IAM/STS query)."""
    if service == "s3":
        raise S3ClientError(code, message)
    if service == "sqs":
        error = JsonRESTError(code, message)
        error.code = 403
        raise error
    if code == "AccessDenied":
        raise AccessDeniedError(user_arn=f"arn:aws:iam::{self.current_account}:root", action=message)
    error_xml = _RESTError(code, message)
    error_xml.code = 403
    raise error_xml


def _other_account_resource(self: Any, service: str, account: str) -> str:
    """The resource the request names, when it belongs to another account than the session's."""
    if service == "s3":
        bucket = self.data.get("BucketName") if isinstance(self.data, dict) else None
        owner = s3_backends.bucket_accounts.get(bucket or "")
        if owner is not None and owner[1] != account:
            return f"bucket {bucket}"
    if service == "sqs":
        url = self._get_param("QueueUrl") or ""
        parts = url.rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2].isdigit() and parts[-2] != account:
            return f"queue {url}"
    return ""


def _wrap_authorize(original: Callable[..., None]) -> Callable[..., None]:
    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        store = _store()
        key, service = _scope(self)
        issued = store.issued_keys.get(key)
        if issued is None:
            return original(self, iam_request_cls, resource)
        account, policy = issued
        raw = self.data.get("Action") if service == "s3" and isinstance(self.data, dict) else None
        action = f"{service}:{raw or self._get_action()}"
        allowed = action in ALWAYS_ALLOWED or action in TASK_POLICY_ACTIONS.get(policy, frozenset())
        if store.on_root_call is not None:
            store.on_root_call(key)
        with store.lock:
            made = sum(1 for call in store.root_session_calls if call["key"] == key)
            if store.expire_after_calls is not None and made >= store.expire_after_calls:
                store.expired_keys.add(key)
            store.root_session_calls.append({"key": key, "action": action, "allowed": allowed})
        if key in store.expired_keys:
            _refuse(self, service, "ExpiredToken", "The security token included in the request is expired")
        if not allowed:
            _refuse(self, service, "AccessDenied", f"{action} (not in {policy.rsplit('/', 1)[-1]})")
        elsewhere = _other_account_resource(self, service, account)
        if elsewhere:
            _refuse(self, service, "AccessDenied", f"{action} on {elsewhere} of another account")
        return None

    return authorize


def _root_of(self: IamResponse) -> tuple[RootPostureStore, Root, str] | None:
    """The store's root for a root-session request without ``UserName``; None for anything else."""
    store = _store()
    key, _ = _scope(self)
    if key not in store.issued_keys:
        return None
    if self._get_param("UserName"):
        raise IAMException("AccessDenied", "A root task policy acts on the root user only.")
    account = store.issued_keys[key][0]
    return store, store.root(account), account


def _rooted(name: str, handler: Callable[..., ActionResult]) -> Callable[[IamResponse], Any]:
    original = getattr(IamResponse, name)

    def dispatch(self: IamResponse) -> Any:
        found = _root_of(self)
        if found is None:
            return original(self)
        store, root, account = found
        with store.lock:
            return handler(self, root, account)

    return dispatch


def _get_login_profile(self: IamResponse, root: Root, account: str) -> ActionResult:
    if not root.password:
        raise IAMException("NoSuchEntity", "Login Profile for User root cannot be found.")
    return ActionResult(
        {"LoginProfile": {"UserName": "root", "CreateDate": datetime(2019, 3, 1, tzinfo=UTC)}}
    )


def _create_login_profile(self: IamResponse, root: Root, account: str) -> ActionResult:
    if self._get_param("Password"):
        raise IAMException("InvalidInput", "A password cannot be set in an AssumeRoot session.")
    if root.password:
        raise IAMException("EntityAlreadyExists", "Login Profile for User root already exists.")
    root.password = True
    moment = datetime.now(UTC)
    return ActionResult({"LoginProfile": {"UserName": "root", "CreateDate": moment}})


def _delete_login_profile(self: IamResponse, root: Root, account: str) -> ActionResult:
    if not root.password:
        raise IAMException("NoSuchEntity", "Login Profile for User root cannot be found.")
    root.password = False
    return ActionResult({})


def _list_access_keys(self: IamResponse, root: Root, account: str) -> ActionResult:
    keys = [
        {"AccessKeyId": key, "Status": "Active", "CreateDate": datetime(2020, 1, 1, tzinfo=UTC)}
        for key in root.key_ids(account)
    ]
    return ActionResult({"AccessKeyMetadata": keys, "IsTruncated": False})


def _get_access_key_last_used(self: IamResponse, root: Root, account: str) -> ActionResult:
    key = self._get_param("AccessKeyId")
    if key not in root.key_ids(account):
        raise IAMException("NoSuchEntity", f"The Access Key with id {key} cannot be found.")
    used = {"LastUsedDate": datetime(2026, 11, 30, 8, tzinfo=UTC), "ServiceName": "s3", "Region": "us-east-1"}
    return ActionResult({"UserName": "root", "AccessKeyLastUsed": used})


def _delete_access_key(self: IamResponse, root: Root, account: str) -> ActionResult:
    key = self._get_param("AccessKeyId")
    if key not in root.key_ids(account):
        raise IAMException("NoSuchEntity", f"The Access Key with id {key} cannot be found.")
    root.deleted_keys.add(key)
    return ActionResult({})


def _list_signing_certificates(self: IamResponse, root: Root, account: str) -> ActionResult:
    certificates = [
        {
            "UserName": "root",
            "CertificateId": cert,
            "CertificateBody": CERTIFICATE_BODY,
            "Status": "Active",
            "UploadDate": datetime(2020, 1, 1, tzinfo=UTC),
        }
        for cert in root.certificate_ids(account)
    ]
    return ActionResult({"Certificates": certificates, "IsTruncated": False})


def _delete_signing_certificate(self: IamResponse, root: Root, account: str) -> ActionResult:
    cert = self._get_param("CertificateId")
    if cert not in root.certificate_ids(account):
        raise IAMException("NoSuchEntity", f"The Certificate with id {cert} cannot be found.")
    root.deleted_certificates.add(cert)
    return ActionResult({})


def _list_mfa_devices(self: IamResponse, root: Root, account: str) -> ActionResult:
    devices = [
        {"UserName": "root", "SerialNumber": serial, "EnableDate": datetime(2021, 5, 1, tzinfo=UTC)}
        for serial in root.mfa_serials(account)
    ]
    return ActionResult({"MFADevices": devices, "IsTruncated": False})


def _deactivate_mfa_device(self: IamResponse, root: Root, account: str) -> ActionResult:
    serial = self._get_param("SerialNumber")
    if serial not in root.mfa_serials(account):
        raise IAMException("NoSuchEntity", f"MFA device {serial} is not active on the root user.")
    root.deactivated_mfa.add(serial)
    return ActionResult({})


def _delete_virtual_mfa_device(self: IamResponse, root: Root, account: str) -> ActionResult:
    serial = self._get_param("SerialNumber")
    if serial in root.mfa_serials(account):
        raise IAMException("DeleteConflict", "The MFA device is still active; deactivate it first.")
    if serial != root.virtual_serial(account) or serial in root.deleted_virtual_mfa:
        raise IAMException("NoSuchEntity", f"VirtualMFADevice with serial {serial} doesn't exist.")
    root.deleted_virtual_mfa.add(serial)
    return ActionResult({})


ROOT_HANDLERS: dict[str, Callable[..., ActionResult]] = {
    "get_login_profile": _get_login_profile,
    "create_login_profile": _create_login_profile,
    "delete_login_profile": _delete_login_profile,
    "list_access_keys": _list_access_keys,
    "delete_access_key": _delete_access_key,
    "get_access_key_last_used": _get_access_key_last_used,
    "list_signing_certificates": _list_signing_certificates,
    "delete_signing_certificate": _delete_signing_certificate,
    "list_mfa_devices": _list_mfa_devices,
    "deactivate_mfa_device": _deactivate_mfa_device,
    "delete_virtual_mfa_device": _delete_virtual_mfa_device,
}


def install_assume_root(patch: Callable[[type, str, Any], None]) -> None:
    """Add the root-session behaviour with ``patch`` (``install_root_posture``'s, which undoes it)."""
    patch(
        ActionAuthenticatorMixin,
        "_authenticate_and_authorize_action",
        _wrap_authorize(ActionAuthenticatorMixin._authenticate_and_authorize_action),
    )
    for name, handler in ROOT_HANDLERS.items():
        patch(IamResponse, name, _rooted(name, handler))
