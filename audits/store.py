"""Storing what the CloudTrail sources read: root events and AssumeRoot calls become rows.

The adapters (``audits.sources``) and the pure modules (``audits.cloudtrail``) know nothing of the
database; :func:`store_records` is where their records become rows. It upserts root records into
``RootEvent`` (keyed by eventID and account, so re-ingesting changes nothing) and ``AssumeRoot`` calls
into ``AssumeRootCall``, and joins the two on the temporary access key id whichever arrives first.
Runs, cursors and reconciliation are ``audits.ingest``'s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import DataError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from audits.cloudtrail.classify import event_digest
from audits.cloudtrail.screen import ScreenedRecord
from audits.models import AssumeRootCall, IngestionRun, RootEvent

__all__ = [
    "FUTURE_TOLERANCE",
    "MAX_ERRORS_PER_RUN",
    "StoreResult",
    "add_errors",
    "record_problem",
    "store_records",
]

#: An event further ahead than this is stored (it may be a clock problem at AWS's side or a forged
#: record; either way an auditor should see it) but reported on the run.
FUTURE_TOLERANCE = timedelta(minutes=15)
#: Problems kept per run: a 1 GB file of broken lines must not make a 1 GB run row.
MAX_ERRORS_PER_RUN = 500

# ASCII digits only: ``\d`` (and ``str.isdigit``) also accept Arabic-Indic or full-width digits, which
# name no AWS account, and ``$`` accepts a trailing newline.
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_ACCOUNT_IN_PRINCIPAL = re.compile(r"(?<![0-9])([0-9]{12})(?![0-9])")
_TRUNCATED = f"more problems were found; only the first {MAX_ERRORS_PER_RUN} are kept"


@dataclass
class StoreResult:
    """What :func:`store_records` did with one batch."""

    root_records: int = 0
    assume_root_calls: int = 0
    # Records that could not be stored (missing time or account); each is also a problem.
    skipped: int = 0
    # Stored, but dated too far ahead; each is also a problem.
    future: int = 0
    # The same record more than once in this batch (stored once).
    duplicates: int = 0
    # AWS accounts whose root events were stored or attributed: these need reconciling.
    accounts: set[str] = field(default_factory=set)
    problems: list[dict[str, str]] = field(default_factory=list)


def record_problem(found: ScreenedRecord) -> str | None:
    """Why a screened record cannot be stored, or None. The reason names the record, never its data."""
    c = found.classification
    label = f"record {c.event_id}" if not c.event_id_is_digest else "a record without eventID"
    if c.event_time is None:
        return f"{label} has no readable eventTime; skipped"
    account = c.account_id
    if account is None:
        return f"{label} names no account (recipientAccountId or userIdentity.accountId); skipped"
    if not _ACCOUNT_ID.fullmatch(account):
        return f"{label} has an account id that is not 12 digits 0-9 ({account[:20]!r}); skipped"
    if not _storable_text(found.record):
        # A lone surrogate (JSON allows "\ud800") cannot be encoded for the database: this record
        # alone is refused, never the batch or the file around it.
        return f"{label} holds text that is not valid Unicode (a lone surrogate); skipped"
    return None


def _storable_text(record: dict[str, Any]) -> bool:
    try:
        json.dumps(record, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def store_records(*, run: IngestionRun, records: Iterable[ScreenedRecord], origin: str = "") -> StoreResult:
    """Upsert root records and AssumeRoot calls; attribute member-account actions to their caller.

    Re-ingesting changes nothing: rows are inserted with ``ON CONFLICT DO NOTHING`` on their keys
    (eventID and account for events, eventID for calls; a digest of the record stands in for a missing
    eventID). Problems are appended to ``run.errors`` (named by ``origin``, the file or unit) and
    ``run.root_records`` is counted up; the caller saves the run in its transaction.
    """
    result = StoreResult()
    now = timezone.now()
    events: dict[tuple[str, str], RootEvent] = {}
    calls: dict[str, AssumeRootCall] = {}
    for found in records:
        c = found.classification
        if not (c.is_root or c.is_assume_root_call):
            continue
        reason = record_problem(found)
        if reason is not None:
            result.skipped += 1
            result.problems.append({"file": origin, "reason": reason})
            continue
        assert c.event_time is not None
        assert c.account_id is not None
        event_id = _bounded_event_id(found)
        if c.is_root:
            result.root_records += 1
            key = (event_id, c.account_id)
            if key in events:
                result.duplicates += 1
                continue
            if c.event_time > now + FUTURE_TOLERANCE:
                result.future += 1
                result.problems.append(
                    {
                        "file": origin,
                        "reason": f"record {event_id} is dated {c.event_time:%Y-%m-%d %H:%M:%S} UTC, "
                        "in the future; stored, but check the clock of whatever wrote it",
                    }
                )
            events[key] = _root_event(found, event_id)
            result.accounts.add(c.account_id)
        else:
            result.assume_root_calls += 1
            if event_id in calls:
                result.duplicates += 1
                continue
            call = _assume_root_call(found, event_id)
            calls[event_id] = call
            if call.target_account_id:
                result.accounts.add(call.target_account_id)
    if result.duplicates:
        result.problems.append(
            {
                "file": origin,
                "reason": f"{result.duplicates} duplicated record(s) (same eventID); each stored once",
            }
        )

    if calls:
        _insert(AssumeRootCall, list(calls.values()), result, origin)
    if events:
        rows = list(events.values())
        _attribute_new_events(rows)
        _insert(RootEvent, rows, result, origin)
    if calls:
        # The other direction: events stored before their AssumeRoot call arrived.
        keys = {call.access_key_id for call in calls.values() if call.access_key_id}
        if keys:
            caller = AssumeRootCall.objects.filter(access_key_id=OuterRef("access_key_id")).order_by(
                "event_time"
            )
            RootEvent.objects.filter(access_key_id__in=keys, assume_root_caller="").update(
                assume_root_caller=Subquery(caller.values("caller_arn")[:1]), updated_at=now
            )

    run.root_records += result.root_records
    add_errors(run, result.problems)
    return result


def _bounded_event_id(found: ScreenedRecord) -> str:
    event_id = found.classification.event_id
    # A hand-made record may carry an id longer than the column; its digest is still stable.
    if len(event_id) > 128:
        return event_digest(found.record)
    return event_id


def _cut(value: str | None, limit: int) -> str:
    return (value or "")[:limit]


def _root_event(found: ScreenedRecord, event_id: str) -> RootEvent:
    c = found.classification
    assert c.event_time is not None
    assert c.account_id is not None
    return RootEvent(
        event_id=event_id,
        event_id_is_digest=c.event_id_is_digest or event_id != c.event_id,
        aws_account_id=c.account_id,
        region=_cut(c.region, 30),
        event_time=c.event_time,
        event_name=_cut(c.event_name, 128) or "(none)",
        event_source=_cut(c.event_source, 128),
        event_type=_cut(c.event_type, 40),
        is_service_event=c.is_service_event,
        mfa_used=c.mfa_used,
        login_success=c.login_success,
        succeeded=c.succeeded,
        access_key_id=_cut(c.access_key_id, 128),
        via_assume_root=c.via_assume_root,
        source_ip=_cut(c.source_ip, 100),
        user_agent=_cut(c.user_agent, 500),
        record_finding_kinds=sorted(c.finding_kinds),
        raw=_storable(found.record),
    )


def _assume_root_call(found: ScreenedRecord, event_id: str) -> AssumeRootCall:
    c = found.classification
    assert c.event_time is not None
    assert c.account_id is not None
    identity = found.record.get("userIdentity")
    caller = identity.get("arn") if isinstance(identity, Mapping) else None
    # targetPrincipal is an account id or a principal ARN inside the member account.
    target = _ACCOUNT_IN_PRINCIPAL.search(c.assume_root_target or "")
    return AssumeRootCall(
        event_id=event_id,
        management_account_id=c.account_id,
        caller_arn=_cut(caller if isinstance(caller, str) else "", 2048),
        target_account_id=target.group(1) if target else "",
        task_policy_arn=_cut(c.assume_root_task_policy_arn, 300),
        access_key_id=_cut(c.assume_root_access_key_id, 128),
        event_time=c.event_time,
        raw=_storable(found.record),
    )


def _attribute_new_events(rows: list[RootEvent]) -> None:
    """Name the AssumeRoot caller on events whose key an already stored call issued (one query)."""
    keys = {row.access_key_id for row in rows if row.access_key_id}
    if not keys:
        return
    callers: dict[str, str] = {}
    for key, arn in (
        AssumeRootCall.objects.filter(access_key_id__in=keys)
        .order_by("-event_time")
        .values_list("access_key_id", "caller_arn")
    ):
        callers[key] = arn  # ordered newest first, so the earliest call wins
    for row in rows:
        if row.access_key_id in callers:
            row.assume_root_caller = callers[row.access_key_id]


def _insert(
    model: type[RootEvent] | type[AssumeRootCall], rows: list[Any], result: StoreResult, origin: str
) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING``; a row the database refuses is skipped, not the batch."""
    try:
        with transaction.atomic():
            model.objects.bulk_create(rows, ignore_conflicts=True)
        return
    except (DataError, ValueError):
        # One odd value (jsonb refuses some strings; the driver refuses text it cannot encode, as a
        # ValueError before any SQL runs): find it below and keep the others.
        pass
    for row in rows:
        try:
            with transaction.atomic():
                model.objects.bulk_create([row], ignore_conflicts=True)
        except (DataError, ValueError):
            result.skipped += 1
            result.problems.append(
                {"file": origin, "reason": f"record {row.event_id} was refused by the database; skipped"}
            )


def _storable(record: dict[str, Any]) -> dict[str, Any]:
    """The record as PostgreSQL's jsonb accepts it: NUL characters cannot be stored in jsonb text."""
    if "\\u0000" not in json.dumps(record, default=str):
        return record
    cleaned: dict[str, Any] = json.loads(json.dumps(record, default=str).replace("\\u0000", "\\ufffd"))
    return cleaned


def _text(value: str | None, limit: int) -> str:
    # A reason may quote an eventID or a file name holding a lone surrogate: the errors column must
    # still be storable, so such characters become "?".
    return _cut(value, limit).encode("utf-8", "replace").decode("utf-8")


def add_errors(run: IngestionRun, problems: list[dict[str, str]]) -> None:
    """Append problems (``{"file", "reason"}``) to ``run.errors``, cut to size; the caller saves."""
    errors = list(run.errors or [])
    for problem in problems:
        if len(errors) >= MAX_ERRORS_PER_RUN:
            if errors[-1].get("reason") != _TRUNCATED:
                errors.append({"file": "", "reason": _TRUNCATED})
            break
        errors.append(
            {"file": _text(problem.get("file"), 1000), "reason": _text(problem.get("reason"), 1000)}
        )
    run.errors = errors
