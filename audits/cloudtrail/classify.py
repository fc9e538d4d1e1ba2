"""Classification of a single CloudTrail record: a pure function of the record, no Django, no I/O.

The rules (docs/architecture.md, "The life of a CloudTrail record"; AWS's documented record shapes):

* root means ``userIdentity.type == "Root"`` and nothing else (an IAM user called ``root``, an ARN ending
  in ``:root`` or the *caller* of ``sts:AssumeRoot`` is not root);
* an ``AwsServiceEvent`` is AWS acting: it is kept, but never attributed to a person and never raises a
  person-finding kind;
* ``MFAUsed`` is compared case-insensitively (AWS's own examples show "Yes", "YES" and "No").

Records come from files, APIs and queues written by many tools, so every field is optional and may have
the wrong type; ``classify({})`` works and nothing here raises on odd input.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

__all__ = [
    "Classification",
    "RecordFindingKind",
    "classify",
    "event_digest",
    "parse_event_time",
]

SIGNIN_SOURCE = "signin.amazonaws.com"
IAM_SOURCE = "iam.amazonaws.com"
STS_SOURCE = "sts.amazonaws.com"
CLOUDTRAIL_SOURCE = "cloudtrail.amazonaws.com"


class RecordFindingKind(StrEnum):
    """Finding kinds that one record implies on its own, whatever the check-outs say.

    The values are the kinds of the design's findings table, so they can be stored as they are.
    Kinds that need context (``unapproved_root_usage``, ``root_activity_outside_scope``) are decided by
    reconciliation, not here.
    """

    ROOT_LOGIN_WITHOUT_MFA = "root_login_without_mfa"
    ROOT_LOGIN_FAILED = "root_login_failed"
    ROOT_ACCESS_KEY_CREATED = "root_access_key_created"
    ROOT_PASSWORD_RECOVERY = "root_password_recovery"
    ROOT_MFA_CHANGED = "root_mfa_changed"
    ROOT_CLOUDTRAIL_TAMPERING = "root_cloudtrail_tampering"


# Sign-in events for the root password. PasswordRecoveryRequested/Completed come from a community list (the
# AWS page was not found, see the reference 2.2); PasswordUpdated is on the AWS sign-in events page.
# ChangePassword is the IAM API for the same act. CreateLoginProfile without a user name is the AssumeRoot
# task (IAMCreateRootUserPassword) that re-allows root password recovery.
_PASSWORD_EVENTS = frozenset(
    {"PasswordRecoveryRequested", "PasswordRecoveryCompleted", "PasswordUpdated", "ChangePassword"}
)
_MFA_EVENTS = frozenset(
    {"EnableMFADevice", "DeactivateMFADevice", "DeleteVirtualMFADevice", "CreateVirtualMFADevice"}
)
# Everything that stops, removes or narrows what a trail (or a Lake event data store) records.
_TRAIL_TAMPERING_EVENTS = frozenset(
    {
        "StopLogging",
        "DeleteTrail",
        "UpdateTrail",
        "PutEventSelectors",
        "PutInsightSelectors",
        "DeleteEventDataStore",
        "StopEventDataStoreIngestion",
        "UpdateEventDataStore",
    }
)
# How CloudTrail names the root user when an IAM call targets it (EnableMFADevice on the sign-in page).
_ROOT_USER_NAMES = frozenset({"AWS ROOT USER", "<root_account>"})

_YES = frozenset({"yes", "true"})
_NO = frozenset({"no", "false"})


@dataclass(frozen=True, slots=True)
class Classification:
    """What one CloudTrail record says, in the portal's words. Missing fields are ``None``."""

    event_id: str
    # True when the record had no eventID and ``event_id`` is the digest of the record itself.
    event_id_is_digest: bool
    event_time: datetime | None
    event_name: str | None
    event_source: str | None
    event_type: str | None
    account_id: str | None
    region: str | None
    identity_type: str | None
    is_root: bool
    is_service_event: bool
    attributable_to_person: bool
    # userIdentity.invokedBy: a service acting on the caller's behalf (CIS's root filter excludes these;
    # kept as a fact for reconciliation to weigh, not folded into ``attributable_to_person``).
    invoked_by: str | None
    # A member-account action made with AssumeRoot credentials (sessionContext.assumedRoot == "true").
    via_assume_root: bool
    is_console_login: bool
    login_success: bool | None
    mfa_used: bool | None
    # No errorCode and no "Failure" outcome in responseElements (sign-in events report failure there).
    succeeded: bool
    error_code: str | None
    access_key_id: str | None
    source_ip: str | None
    user_agent: str | None
    # sts:AssumeRoot, logged in the caller's account (the management or delegated-administrator account;
    # which accounts those are is the inventory's knowledge, not the record's). The issued key id is what
    # the member account's Root actions carry as ``access_key_id``.
    is_assume_root_call: bool
    assume_root_target: str | None
    assume_root_task_policy_arn: str | None
    assume_root_access_key_id: str | None
    finding_kinds: frozenset[str]


def classify(record: Mapping[str, Any]) -> Classification:
    """Classify one CloudTrail record (the record itself, not an EventBridge envelope)."""
    if not isinstance(record, Mapping):
        record = {}
    identity = _mapping(record.get("userIdentity"))
    event_name = _text(record.get("eventName"))
    event_source = _text(record.get("eventSource"))
    event_type = _text(record.get("eventType"))
    identity_type = _text(identity.get("type"))

    is_root = identity.get("type") == "Root"
    is_service_event = event_type == "AwsServiceEvent"
    is_console_login = event_name == "ConsoleLogin"
    response = _mapping(record.get("responseElements"))
    request = _mapping(record.get("requestParameters"))
    error_code = _text(record.get("errorCode"))
    succeeded = error_code is None and not (
        event_name is not None and _lower(response.get(event_name)) == "failure"
    )

    login_success: bool | None = None
    if is_console_login:
        outcome = _lower(response.get("ConsoleLogin"))
        login_success = True if outcome == "success" else False if outcome == "failure" else None

    event_id, is_digest = _event_id(record)
    session_context = _mapping(identity.get("sessionContext"))

    is_assume_root_call = event_name == "AssumeRoot" and _source_is(event_source, STS_SOURCE)
    target = policy_arn = issued_key = None
    if is_assume_root_call:
        target = _text(request.get("targetPrincipal"))
        policy_arn = _text(_mapping(request.get("taskPolicyArn")).get("arn"))
        issued_key = _text(_mapping(response.get("credentials")).get("accessKeyId"))

    classification = Classification(
        event_id=event_id,
        event_id_is_digest=is_digest,
        event_time=parse_event_time(record.get("eventTime")),
        event_name=event_name,
        event_source=event_source,
        event_type=event_type,
        account_id=_text(record.get("recipientAccountId")) or _text(identity.get("accountId")),
        region=_text(record.get("awsRegion")),
        identity_type=identity_type,
        is_root=is_root,
        is_service_event=is_service_event,
        attributable_to_person=is_root and not is_service_event,
        invoked_by=_text(identity.get("invokedBy")),
        via_assume_root=_lower(session_context.get("assumedRoot")) == "true",
        is_console_login=is_console_login,
        login_success=login_success,
        mfa_used=_mfa_used(record, session_context),
        succeeded=succeeded,
        error_code=error_code,
        access_key_id=_text(identity.get("accessKeyId")),
        source_ip=_text(record.get("sourceIPAddress")),
        user_agent=_text(record.get("userAgent")),
        is_assume_root_call=is_assume_root_call,
        assume_root_target=target,
        assume_root_task_policy_arn=policy_arn,
        assume_root_access_key_id=issued_key,
        finding_kinds=frozenset(),
    )
    kinds = _finding_kinds(classification, identity, request, response)
    # The kinds are read off the classified facts, so they are filled in last.
    return replace(classification, finding_kinds=kinds) if kinds else classification


def _finding_kinds(
    c: Classification,
    identity: Mapping[str, Any],
    request: Mapping[str, Any],
    response: Mapping[str, Any],
) -> frozenset[str]:
    # A service event is AWS acting; it must never read as something a person did.
    if not c.attributable_to_person:
        return frozenset()
    kinds: set[str] = set()
    name = c.event_name
    if c.is_console_login:
        # An unknown MFA flag on a successful root login is treated as "without": the finding is a prompt
        # to look, and a root login we cannot show was MFA-protected deserves one.
        if c.login_success is True and c.mfa_used is not True:
            kinds.add(RecordFindingKind.ROOT_LOGIN_WITHOUT_MFA)
        elif c.login_success is False:
            kinds.add(RecordFindingKind.ROOT_LOGIN_FAILED)
    if name is None:
        return frozenset(kinds)
    # An attempt to blind the trail is the alarm in itself, even when it failed (a member account's root
    # cannot stop the organization trail, but whoever tried holds the root credentials).
    if name in _TRAIL_TAMPERING_EVENTS and _source_is(c.event_source, CLOUDTRAIL_SOURCE):
        kinds.add(RecordFindingKind.ROOT_CLOUDTRAIL_TAMPERING)
    if not c.succeeded:
        # The other kinds are about a credential that changed; a failed attempt changed nothing and is
        # left to reconciliation as root usage.
        return frozenset(kinds)
    if (
        name == "CreateAccessKey"
        and _source_is(c.event_source, IAM_SOURCE)
        and _targets_root_itself(identity, request, _mapping(response.get("accessKey")))
    ):
        kinds.add(RecordFindingKind.ROOT_ACCESS_KEY_CREATED)
    if name in _PASSWORD_EVENTS or (
        name == "CreateLoginProfile"
        and _source_is(c.event_source, IAM_SOURCE)
        and _targets_root_itself(identity, request, {})
    ):
        kinds.add(RecordFindingKind.ROOT_PASSWORD_RECOVERY)
    if name in _MFA_EVENTS and _source_is(c.event_source, IAM_SOURCE):
        kinds.add(RecordFindingKind.ROOT_MFA_CHANGED)
    return frozenset(kinds)


def _targets_root_itself(
    identity: Mapping[str, Any], request: Mapping[str, Any], created: Mapping[str, Any]
) -> bool:
    """True when an IAM call made by root names no other user (it then acts on root itself)."""
    target = _text(request.get("userName")) or _text(created.get("userName"))
    if target is None:
        return True
    # Root's userName in CloudTrail is the account alias when there is one, so the alias means "myself".
    return target in _ROOT_USER_NAMES or target == _text(identity.get("userName"))


def _mfa_used(record: Mapping[str, Any], session_context: Mapping[str, Any]) -> bool | None:
    flag = _yes_no(_mapping(record.get("additionalEventData")).get("MFAUsed"))
    if flag is not None:
        return flag
    return _yes_no(_mapping(session_context.get("attributes")).get("mfaAuthenticated"))


def _yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    lowered = _lower(value)
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    return None


# --- event id ---------------------------------------------------------------------------------------


def _event_id(record: Mapping[str, Any]) -> tuple[str, bool]:
    event_id = _text(record.get("eventID"))
    if event_id is not None:
        return event_id, False
    return event_digest(record), True


def event_digest(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the record's canonical JSON: sorted keys, no spaces, UTF-8.

    Used as the event id of records without ``eventID`` so that ingesting the same record twice upserts
    the same row. 64 hex digits cannot be mistaken for CloudTrail's UUID-shaped ids.
    """
    try:
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        # Non-string keys (only possible for records built in code) cannot be sorted as they are.
        canonical = json.dumps(
            _string_keys(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _string_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_string_keys(v) for v in value]
    return value


# --- time ---------------------------------------------------------------------------------------------

# CloudTrail writes "2023-07-10T11:57:16Z"; other tools write "2024-06-02 20:27:12",
# "2024-06-03 15:23:22.000000000" (nanoseconds) or an explicit offset.
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|z|UTC|[+-]\d{2}:?\d{2})?"
)


def parse_event_time(value: Any) -> datetime | None:
    """An aware UTC datetime from CloudTrail's ``eventTime``, or None when missing or unreadable.

    A time without a zone is taken as UTC, which is what CloudTrail and the tools that re-serialise its
    records mean by it.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not isinstance(value, str):
        return None
    match = _TIME.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz: timezone = UTC
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = timezone(-offset if zone[0] == "-" else offset)
    try:
        parsed = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz
        )
    except ValueError:
        return None
    return parsed.astimezone(UTC)


# --- tolerant field access ------------------------------------------------------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    """A non-empty string field, or None. Numbers are accepted as text (some tools emit ids as numbers)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _lower(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) else None


def _source_is(source: str | None, expected: str) -> bool:
    # A record without eventSource still counts: missing context must not hide a root action.
    return source is None or source == expected
