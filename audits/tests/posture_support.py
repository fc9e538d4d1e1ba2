"""moto taught what it lacks for root posture, answering from a ``RootPostureStore`` the test fills.

moto 5.2 knows nothing of root users: its ``GetAccountSummary`` has no ``AccountPasswordPresent``
and always-zero root flags, its credential report has no ``<root_account>`` row, ``sts:AssumeRoot``
and ``iam:ListOrganizationsFeatures`` raise ``NotImplementedError``. ``install_root_posture`` patches
moto's response classes (so it works in-process and through moto's server alike):

* ``GetAccountSummary``: moto's map with the account's root flags (``AccountMFAEnabled``,
  ``AccountAccessKeysPresent``, ``AccountPasswordPresent``, ``AccountSigningCertificatesPresent``);
* ``GetCredentialReport``: a ``<root_account>`` row first, shaped as AWS documents it
  (``password_enabled`` is ``not_supported`` for root);
* ``ListVirtualMFADevices``: moto's devices plus root's virtual device (``mfa/root-account-mfa-device``,
  ``User.Arn`` ``...:root``) when the account's root MFA is virtual;
* ``ListOrganizationsFeatures``: the store's features, from the management account only;
* ``AssumeRoot``: only from the management account, only with one of the five task policies, at most
  900 s, only with root sessions on; credentials that moto maps to the target account;
* the AssumeRoot session itself (task policies, root-credential calls without ``UserName``, expiry):
  ``assume_root_support.py``; ``store.disabled_regions`` makes AssumeRoot answer
  ``RegionDisabledException`` on those regions' endpoints;
* ``store.fail(action, account, code)``: the next calls of that action for that account fail with
  that AWS error (``AssumeRole``: the account in the role ARN; ``GetAlternateContact`` /
  ``PutAlternateContact``: the ``AccountId``), for throttling, a missing role, a suspended account.

Alternate contacts are moto's own (``account:Get/PutAlternateContact`` with ``AccountId``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.account.responses import AccountResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.iam.exceptions import IAMException
from moto.iam.responses import IamResponse
from moto.sts.exceptions import STSClientError
from moto.sts.responses import TokenResponse

from audits.tests.assume_root_support import install_assume_root

MANAGEMENT_ACCOUNT = "123456789012"  # moto's account for credentials it did not issue
TASK_POLICIES = frozenset(
    f"arn:aws:iam::aws:policy/root-task/{name}"
    for name in (
        "IAMAuditRootUserCredentials",
        "IAMCreateRootUserPassword",
        "IAMDeleteRootUserCredentials",
        "S3UnlockBucketPolicy",
        "SQSUnlockQueuePolicy",
    )
)
REPORT_HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
    "cert_2_active,cert_2_last_rotated"
)


@dataclass
class Root:
    """One account's root user as AWS would report it. The default is a well-kept classic root.

    The counts and flags say what the root had; an AssumeRoot session's deletions are kept beside them
    (``deleted_*``, ``deactivated_mfa``), and the ids it lists are derived from the account id."""

    mfa: bool = True
    virtual_mfa: bool = False
    password: bool = True
    access_keys: int = 0
    certificates: int = 0
    created: str = "2019-03-01T10:00:00+00:00"
    deleted_keys: set[str] = field(default_factory=set)
    deleted_certificates: set[str] = field(default_factory=set)
    deactivated_mfa: set[str] = field(default_factory=set)
    deleted_virtual_mfa: set[str] = field(default_factory=set)

    def key_ids(self, account: str) -> list[str]:
        ids = [f"AKIAR{account}{n:03d}" for n in range(1, self.access_keys + 1)]
        return [key for key in ids if key not in self.deleted_keys]

    def certificate_ids(self, account: str) -> list[str]:
        ids = [f"ROOTCERT{account}{n:04d}" for n in range(1, self.certificates + 1)]
        return [cert for cert in ids if cert not in self.deleted_certificates]

    def virtual_serial(self, account: str) -> str:
        return f"arn:aws:iam::{account}:mfa/root-account-mfa-device"

    def mfa_serials(self, account: str) -> list[str]:
        """The root's active MFA devices: its virtual device, or a hardware TOTP token."""
        if not self.mfa:
            return []
        serial = self.virtual_serial(account) if self.virtual_mfa else f"GAHT{account[-8:]}"
        return [] if serial in self.deactivated_mfa else [serial]


@dataclass
class RootPostureStore:
    roots: dict[str, Root] = field(default_factory=dict)
    features: set[str] = field(default_factory=lambda: {"RootCredentialsManagement", "RootSessions"})
    failures: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    assume_root_calls: list[dict[str, Any]] = field(default_factory=list)
    # AssumeRoot keys issued: access key id -> (account, task policy); see assume_root_support.
    issued_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    expired_keys: set[str] = field(default_factory=set)
    # Their secrets, so a test can prove the portal kept none.
    issued_secrets: list[str] = field(default_factory=list)
    root_session_calls: list[dict[str, Any]] = field(default_factory=list)
    # A session expires after this many calls (a task slower than its duration); None: never.
    expire_after_calls: int | None = None
    # Called with the key before each root-session call is answered (a test's probe).
    on_root_call: Callable[[str], None] | None = None
    # Regions whose STS endpoint the management account has not activated.
    disabled_regions: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def root(self, account: str) -> Root:
        return self.roots.setdefault(account, Root())

    def fail(self, action: str, account: str, code: str, message: str = "", *, times: int = 1000) -> None:
        """The next ``times`` calls of ``action`` about ``account`` answer the AWS error ``code``."""
        with self.lock:
            self.failures[(action, account)] = [(code, message or code)] * times

    def expire(self, access_key_id: str = "") -> None:
        """The AssumeRoot session with this key (every one, if none is named) has run out."""
        with self.lock:
            self.expired_keys |= {access_key_id} if access_key_id else set(self.issued_keys)

    def refused_actions(self) -> list[str]:
        return [call["action"] for call in self.root_session_calls if not call["allowed"]]

    def heal(self, action: str, account: str) -> None:
        with self.lock:
            self.failures.pop((action, account), None)

    def check(self, action: str, account: str) -> None:
        with self.lock:
            queue = self.failures.get((action, account))
            if not queue:
                return
            code, message = queue.pop()
        # moto serialises an error with the model of the service whose exception class it is.
        if action in ("AssumeRole", "AssumeRoot"):
            raise STSClientError(code, message)
        if action.endswith("AlternateContact"):
            raise JsonRESTError(code, message)
        raise IAMException(code, message)


_store: RootPostureStore | None = None


def _the_store() -> RootPostureStore:
    if _store is None:
        raise NotImplementedError("root posture is only available inside the root_posture fixture")
    return _store


def _get_account_summary(self: IamResponse) -> ActionResult:
    store = _the_store()
    store.check("GetAccountSummary", self.current_account)
    root = store.root(self.current_account)
    summary = dict(self.backend.get_account_summary().summary_map)
    account = self.current_account
    summary.update(
        AccountMFAEnabled=int(bool(root.mfa_serials(account))),
        AccountAccessKeysPresent=int(bool(root.key_ids(account))),
        AccountPasswordPresent=int(root.password),
        AccountSigningCertificatesPresent=int(bool(root.certificate_ids(account))),
    )
    return ActionResult({"SummaryMap": summary})


def _root_row(account: str, root: Root) -> str:
    keys, certificates, mfa = root.key_ids(account), root.certificate_ids(account), root.mfa_serials(account)

    def key(n: int) -> list[str]:
        if len(keys) >= n:
            return ["true", "2020-01-01T00:00:00+00:00", "2026-11-30T08:00:00+00:00", "us-east-1", "s3"]
        return ["false", "N/A", "N/A", "N/A", "N/A"]

    def cert(n: int) -> list[str]:
        return ["true", "2020-01-01T00:00:00+00:00"] if len(certificates) >= n else ["false", "N/A"]

    cells = [
        "<root_account>",
        f"arn:aws:iam::{account}:root",
        root.created,
        "not_supported",
        "2026-11-01T09:00:00+00:00" if root.password else "N/A",
        "not_supported",
        "not_supported",
        "true" if mfa else "false",
        *key(1),
        *key(2),
        *cert(1),
        *cert(2),
    ]
    return ",".join(cells)


def _get_credential_report(self: IamResponse) -> ActionResult:
    store = _the_store()
    store.check("GetCredentialReport", self.current_account)
    users = self.backend.get_credential_report().split("\n", 1)[1]
    report = f"{REPORT_HEADER}\n{_root_row(self.current_account, store.root(self.current_account))}\n{users}"
    return ActionResult({"Content": report, "ReportFormat": "text/csv", "GeneratedTime": datetime.now(UTC)})


def _list_virtual_mfa_devices(self: IamResponse) -> ActionResult:
    store = _the_store()
    account = self.current_account
    store.check("ListVirtualMFADevices", account)
    devices, _ = self.backend.list_virtual_mfa_devices(self._get_param("AssignmentStatus", "Any"), None, 100)
    found: list[Any] = list(devices)
    root = store.root(account)
    if root.virtual_serial(account) in root.mfa_serials(account) and (
        self._get_param("AssignmentStatus", "Any") != "Unassigned"
    ):
        moment = datetime(2021, 5, 1, tzinfo=UTC)
        found.append(
            {
                "SerialNumber": f"arn:aws:iam::{account}:mfa/root-account-mfa-device",
                "User": {
                    "Path": "/",
                    "UserName": "root",
                    "UserId": account,
                    "Arn": f"arn:aws:iam::{account}:root",
                    "CreateDate": moment,
                },
                "EnableDate": moment,
            }
        )
    return ActionResult({"VirtualMFADevices": found, "IsTruncated": False})


def _list_organizations_features(self: IamResponse) -> ActionResult:
    store = _the_store()
    store.check("ListOrganizationsFeatures", self.current_account)
    if self.current_account != MANAGEMENT_ACCOUNT:
        raise IAMException(
            "AccountNotManagementOrDelegatedAdministratorException",
            "The request was rejected because the account is not the management account or delegated "
            "administrator.",
        )
    return ActionResult({"OrganizationId": "o-exampleorgid", "EnabledFeatures": sorted(store.features)})


def _assume_root(self: TokenResponse) -> ActionResult:
    store = _the_store()
    target = self._get_param("TargetPrincipal") or ""
    policy = self._get_param("TaskPolicyArn.arn") or ""
    duration = self._get_int_param("DurationSeconds", 900)
    store.assume_root_calls.append(
        {"target": target, "policy": policy, "duration": duration, "host": self.headers.get("Host", "")}
    )
    store.check("AssumeRoot", target)
    if self.region in store.disabled_regions:
        raise STSClientError(
            "RegionDisabledException",
            f"STS is not activated in this region for account:{self.current_account}. Your account "
            "administrator can activate STS in this region using the IAM Console.",
        )
    if self.headers.get("Host", "") == "sts.amazonaws.com":
        raise STSClientError("InvalidOperation", "AssumeRoot is not supported on the global endpoint.")
    if self.current_account != MANAGEMENT_ACCOUNT:
        raise STSClientError(
            "AccessDenied", "Only the management account or delegated administrator may AssumeRoot."
        )
    if "RootSessions" not in store.features:
        raise STSClientError("AccessDenied", "Privileged root sessions are not enabled for the organization.")
    if policy not in TASK_POLICIES:
        raise STSClientError("ValidationError", "TaskPolicyArn must be one of the root-task policies.")
    if not 0 <= duration <= 900:
        raise STSClientError("ValidationError", "DurationSeconds must be at most 900.")
    if not (len(target) == 12 and target.isdigit()):
        raise STSClientError("ValidationError", "TargetPrincipal must be a member account id.")
    role = self.backend.assume_role(
        region_name=self.region,
        role_session_name="AssumeRoot",
        role_arn=f"arn:aws:iam::{target}:root",
        policy="",
        duration=duration,
        external_id="",
    )
    with store.lock:
        store.issued_keys[role.access_key_id] = (target, policy)
        store.issued_secrets.append(role.secret_access_key)
    return ActionResult({"Credentials": role, "SourceIdentity": ""})


def _wrap_assume_role(original: Callable[[TokenResponse], Any]) -> Callable[[TokenResponse], Any]:
    def assume_role(self: TokenResponse) -> Any:
        arn = self._get_param("RoleArn") or ""
        parts = arn.split(":")
        _the_store().check("AssumeRole", parts[4] if len(parts) > 4 else "")
        return original(self)

    return assume_role


def _wrap_contact(
    action: str, original: Callable[[AccountResponse], Any]
) -> Callable[[AccountResponse], Any]:
    def handler(self: AccountResponse) -> Any:
        _the_store().check(action, self._get_param("AccountId") or self.current_account)
        return original(self)

    return handler


def install_root_posture(store: RootPostureStore) -> Callable[[], None]:
    """Patch moto; returns the function that puts moto back as it was."""
    global _store
    _store = store
    saved: list[tuple[type, str, Any]] = []

    def patch(cls: type, name: str, handler: Any) -> None:
        saved.append((cls, name, vars(cls).get(name)))
        setattr(cls, name, handler)

    patch(IamResponse, "get_account_summary", _get_account_summary)
    patch(IamResponse, "get_credential_report", _get_credential_report)
    patch(IamResponse, "list_virtual_mfa_devices", _list_virtual_mfa_devices)
    patch(IamResponse, "list_organizations_features", _list_organizations_features)
    patch(TokenResponse, "assume_root", _assume_root)
    install_assume_root(patch)
    patch(TokenResponse, "assume_role", _wrap_assume_role(TokenResponse.assume_role))
    patch(
        AccountResponse,
        "get_alternate_contact",
        _wrap_contact("GetAlternateContact", AccountResponse.get_alternate_contact),
    )
    patch(
        AccountResponse,
        "put_alternate_contact",
        _wrap_contact("PutAlternateContact", AccountResponse.put_alternate_contact),
    )

    def uninstall() -> None:
        global _store
        _store = None
        for cls, name, previous in reversed(saved):
            if previous is None:
                delattr(cls, name)
            else:
                setattr(cls, name, previous)

    return uninstall


def set_contacts(account_id: str, *types: str) -> None:
    """Give the account these alternate contacts, through boto3 as the management account would."""
    import boto3

    client = boto3.client("account", region_name="us-east-1")
    for kind in types:
        kwargs = {} if account_id == MANAGEMENT_ACCOUNT else {"AccountId": account_id}
        client.put_alternate_contact(
            AlternateContactType=kind,
            Name=f"{kind.title()} Team",
            Title="Team",
            EmailAddress=f"{kind.lower()}@example.com",
            PhoneNumber="+441234567890",
            **kwargs,
        )


__all__ = ["MANAGEMENT_ACCOUNT", "Root", "RootPostureStore", "install_root_posture", "set_contacts"]
