"""What AWS says about each root user, read-only: boto3, and for centralised accounts the AssumeRoot
layer (which records the key it is issued before using it; the one database write of a reading).

Every read answers a value or the reason it could not be read (``Answer``), so one refused call ends
only the checks that need it: a missing member role ends that account's IAM checks and leaves its
contacts (read from the management account) to be checked; a throttled contact ends that contact's
check. Nothing here decides pass or fail (``checks.py`` does).

* The member account's root is read through its read-only role (``aws_access.member_settings``):
  ``iam:GetAccountSummary`` gives the flags, the credential report's ``<root_account>`` row the
  access keys' and certificates' details, ``iam:ListVirtualMFADevices`` whether root's MFA is virtual.
* A centralised account, when the organization has centralised root access on, is read by the
  AssumeRoot audit task (``audits.assume_root``, purpose ``posture``): the
  ``IAMAuditRootUserCredentials`` policy allows only ``GetLoginProfile``, ``ListAccessKeys``,
  ``ListMFADevices`` and ``ListSigningCertificates``, so the flags the checks need are made from those
  four answers (``reading_from_audit``) instead of the summary, the report and the virtual devices.
* Alternate contacts and ``iam:ListOrganizationsFeatures`` are asked of the management account; the
  management account's own contacts are asked without ``AccountId`` (AWS refuses its own id there).
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.loaders import Loader, create_loader

from audits import aws_access
from audits.assume_root import TaskTarget, run_root_task
from audits.assume_root.work import RootCredentials
from audits.posture.controls import CONTACT_TYPES
from audits.sources.aws import AwsSettings, ConfigError, client, describe_error, error_code, session

T = TypeVar("T")

AUDIT_TASK = "assume_root_audit_credentials"
ROOT_ROW = "<root_account>"
ROOT_MFA_SERIAL_SUFFIX = ":mfa/root-account-mfa-device"
#: Attempts per call, the first included; botocore backs off between them (throttling included).
MAX_ATTEMPTS = 4
#: How often, and how long apart, the credential report is asked for while AWS is still writing it.
REPORT_POLLS = 10
REPORT_POLL_SECONDS = 2.0
FEATURE_CREDENTIALS = "RootCredentialsManagement"
FEATURE_SESSIONS = "RootSessions"
CENTRAL_FEATURES = frozenset({FEATURE_CREDENTIALS, FEATURE_SESSIONS})
#: The AWS reasons a contact is not set, rather than not readable.
CONTACT_MISSING_CODES = frozenset({"ResourceNotFoundException"})

Failure = (ClientError, BotoCoreError, ConfigError)


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A value AWS gave, or (``value`` None) the reason it could not be had."""

    value: T | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def failed(step: str, exc: BaseException) -> Answer[Any]:
    return Answer(error=f"{step}: {describe_error(exc)}")


@dataclass(frozen=True)
class Contact:
    """An alternate contact as AWS holds it (``None`` from ``contacts``: not set)."""

    name: str
    title: str
    email: str
    phone: str


@dataclass
class RootReading:
    """One account's root as AWS reports it; each part answered separately."""

    via: str
    summary: Answer[dict[str, int]] = field(default_factory=Answer)
    report_row: Answer[dict[str, str]] = field(default_factory=Answer)
    virtual_mfa_serials: Answer[list[str]] = field(default_factory=Answer)
    # What the AssumeRoot audit task read (centralised accounts only); unset for a role's reading.
    credentials: Answer[RootCredentials] | None = None


def _tuned(settings: AwsSettings) -> AwsSettings:
    return replace(settings, max_attempts=MAX_ATTEMPTS)


#: One loader of botocore's service models for every session of a run: each account gets its own
#: session (its own role), and parsing the IAM model afresh for each would cost more than the calls.
_MODELS: Loader = create_loader()


def _sharing_models(boto_session: boto3.session.Session) -> boto3.session.Session:
    boto_session._session.register_component("data_loader", _MODELS)
    return boto_session


class Organization:
    """The management account's clients for one posture run, made once and shared by every account."""

    def __init__(self) -> None:
        self.settings = _tuned(aws_access.management_settings())
        self._session: boto3.session.Session | None = None
        self._own_id: Answer[str] | None = None

    def _client(self, service: str) -> Any:
        return client(service, self.settings, boto_session=self.boto_session())

    def own_account_id(self) -> Answer[str]:
        if self._own_id is None:
            try:
                self._own_id = Answer(str(self._client("sts").get_caller_identity()["Account"]))
            except Failure as exc:
                self._own_id = failed("GetCallerIdentity", exc)
        return self._own_id

    def features(self) -> Answer[frozenset[str]]:
        """The organization's centralised root access features (``iam:ListOrganizationsFeatures``)."""
        try:
            answer = self._client("iam").list_organizations_features()
        except Failure as exc:
            return failed("ListOrganizationsFeatures", exc)
        return Answer(frozenset(answer.get("EnabledFeatures") or ()))

    def _account_arg(self, account_id: str) -> dict[str, str] | Answer[Any]:
        own = self.own_account_id()
        if not own.ok:
            return Answer(error=own.error)
        return {} if own.value == account_id else {"AccountId": account_id}

    def contacts(self, account_id: str) -> dict[str, Answer[Contact | None]]:
        """Each alternate contact of the account: a ``Contact``, ``None`` when not set, or an error."""
        where = self._account_arg(account_id)
        if isinstance(where, Answer):
            return {kind: Answer(error=where.error) for kind in CONTACT_TYPES}
        account = self._client("account")
        found: dict[str, Answer[Contact | None]] = {}
        for kind in CONTACT_TYPES:
            try:
                contact = account.get_alternate_contact(AlternateContactType=kind, **where)[
                    "AlternateContact"
                ]
            except ClientError as exc:
                if error_code(exc) in CONTACT_MISSING_CODES:
                    found[kind] = Answer(None)
                else:
                    found[kind] = failed(f"GetAlternateContact {kind}", exc)
                continue
            except Failure as exc:
                found[kind] = failed(f"GetAlternateContact {kind}", exc)
                continue
            found[kind] = Answer(
                Contact(
                    name=contact.get("Name", ""),
                    title=contact.get("Title", ""),
                    email=contact.get("EmailAddress", ""),
                    phone=contact.get("PhoneNumber", ""),
                )
            )
        return found

    def put_contact(self, account_id: str, contact_type: str, contact: Contact) -> None:
        """Set one alternate contact (``account:PutAlternateContact``); raises what AWS raises."""
        where = self._account_arg(account_id)
        if isinstance(where, Answer):
            raise ConfigError(where.error)
        self._client("account").put_alternate_contact(
            AlternateContactType=contact_type,
            Name=contact.name,
            Title=contact.title,
            EmailAddress=contact.email,
            PhoneNumber=contact.phone,
            **where,
        )

    def boto_session(self) -> boto3.session.Session:
        """The management account's session, shared by every call of the run (AssumeRoot included)."""
        if self._session is None:
            self._session = _sharing_models(session(self.settings))
        return self._session


def read_root(
    organization: Organization, account_id: str, *, assume_root: bool, reference: str = ""
) -> RootReading:
    """Read one account's root user; a session that cannot be had answers every part with why.
    ``reference``: what the AssumeRoot key is recorded under (the posture run)."""
    if assume_root:
        return _read_through_audit(organization, account_id, reference)
    settings = _tuned(aws_access.member_settings(account_id))
    via = f"role {settings.role_arn}"
    try:
        boto_session = _sharing_models(session(settings))
        # The role is assumed lazily; assume it now, so a missing role is named as such.
        boto_session.get_credentials().get_frozen_credentials()
    except Failure as exc:
        return _unreachable(via, failed(f"AssumeRole {settings.role_arn}", exc).error)
    iam = client("iam", settings, boto_session=boto_session)
    reading = RootReading(via=via)
    try:
        reading.summary = Answer(dict(iam.get_account_summary()["SummaryMap"]))
    except Failure as exc:
        reading.summary = failed("GetAccountSummary", exc)
    reading.report_row = _root_row(iam)
    reading.virtual_mfa_serials = _root_virtual_mfa(iam, account_id)
    return reading


def _read_through_audit(organization: Organization, account_id: str, reference: str) -> RootReading:
    via = "sts:AssumeRoot (IAMAuditRootUserCredentials)"
    try:
        management = organization.boto_session()
    except Failure as exc:
        return _unreachable(via, failed("management account", exc).error)
    outcome = run_root_task(
        AUDIT_TASK, account_id, TaskTarget(), purpose="posture", reference=reference, management=management
    )
    if outcome.access_key_id:
        # The key CloudTrail shows on the member account's records of this read.
        via = f"{via}, key {outcome.access_key_id}"
    if not outcome.ok:
        return _unreachable(via, outcome.error)
    return reading_from_audit(via, RootCredentials.from_found(outcome.found))


def reading_from_audit(via: str, credentials: RootCredentials) -> RootReading:
    """The checks' flags made from the audit task's four answers (what ``GetAccountSummary`` would
    say: a key or certificate of any status counts as present, as AWS counts it there)."""
    summary = {
        "AccountMFAEnabled": int(bool(credentials.mfa_serials)),
        "AccountAccessKeysPresent": int(bool(credentials.access_keys)),
        "AccountPasswordPresent": int(credentials.login_profile),
        "AccountSigningCertificatesPresent": int(bool(credentials.certificates)),
    }
    return RootReading(
        via=via,
        summary=Answer(summary),
        report_row=Answer(error="the audit policy does not allow the credential report (not needed)"),
        virtual_mfa_serials=Answer(credentials.virtual_mfa_serials),
        credentials=Answer(credentials),
    )


def _unreachable(via: str, reason: str) -> RootReading:
    gone: Answer[Any] = Answer(error=reason)
    return RootReading(via=via, summary=gone, report_row=gone, virtual_mfa_serials=gone)


def _root_row(iam: Any) -> Answer[dict[str, str]]:
    """The ``<root_account>`` row of the credential report (generated first; AWS reuses a report for
    four hours, so this is cheap after the first account of a run)."""
    try:
        for _ in range(REPORT_POLLS):
            state = iam.generate_credential_report().get("State")
            if state == "COMPLETE":
                break
            time.sleep(REPORT_POLL_SECONDS)
        content = iam.get_credential_report()["Content"]
    except Failure as exc:
        return failed("GetCredentialReport", exc)
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("user") == ROOT_ROW:
            return Answer(dict(row))
    return Answer(error="GetCredentialReport: the report has no <root_account> row")


def _root_virtual_mfa(iam: Any, account_id: str) -> Answer[list[str]]:
    """Serials of virtual MFA devices assigned to root (a custom name is possible: the user decides)."""
    serials: list[str] = []
    try:
        for page in iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Assigned"):
            for device in page.get("VirtualMFADevices", []):
                user_arn = (device.get("User") or {}).get("Arn", "")
                serial = device.get("SerialNumber", "")
                if user_arn.endswith(":root") or serial.endswith(ROOT_MFA_SERIAL_SUFFIX):
                    serials.append(serial)
    except Failure as exc:
        return failed("ListVirtualMFADevices", exc)
    return Answer(sorted(serials))
