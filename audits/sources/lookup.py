"""CloudTrail ``LookupEvents`` (Event history), per account and region: root activity of the last 90 days.

Config::

    {
        "accounts": [                                   # required
            {"account_id": "111122223333", "role_arn": "arn:aws:iam::111122223333:role/audit"},
            {"account_id": "999988887777", "assume_root_calls": true},  # the management account
            "444455556666",                             # a bare id: role from role_name, else none
        ],
        "role_name": "BreakGlassAudit",  # optional: role arn:aws:iam::<account>:role/<role_name>
        "regions": ["eu-west-1"],        # us-east-1 is always added (root sign-in is logged there)
        "lookback_hours": 24,            # first read: how far back (at most 90 days)
        "overlap_minutes": 15,           # later reads start this long before the last one ended
        "endpoint_url": "http://127.0.0.1:5000",  # tests only
        "retry_mode": "adaptive",        # botocore's retries (see ``audits.sources.aws``) ...
        "max_attempts": 3,               # ... per call,
        "max_retries": 4,                # then ours, with backoff and jitter, on ThrottlingException
        # and the shared keys of ``audits.sources.aws``: session_name, external_id, ...
    }

Event history is per account and per region, and the management account's does not show member
accounts' events, so each unit ``<account>/<region>`` is read with that account's role in that region.
Each query is ``LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "root"}]`` from the
start time to now, 50 events a page, following ``NextToken`` with the same parameters. Every event's
``CloudTrailEvent`` (a JSON string) is parsed and classified; root records and ``AssumeRoot`` calls are
kept (an IAM user named "root" also matches the filter and is dropped here). ``assume_root_calls``
marks the management (or delegated administrator) account: its ``AssumeRoot`` calls are made by a
role, not by root, so they need a second query, ``EventName=AssumeRoot``; without them, member-account
actions made with AssumeRoot credentials cannot be attributed.

Rate: LookupEvents allows 2 requests per second per account and region. A unit is one account and
region and is read by one worker at a time, so a limiter per read spacing calls 0.5 s apart keeps to
it. A ``ThrottlingException`` is retried by botocore first, then here with exponential backoff and
jitter; when that gives up, ``SourceError`` is raised and the cursor stays where it was.

**Cursor semantics (read this before storing positions).** The position is an ISO 8601 UTC time:
the ``EndTime`` of the last query that completed. LookupEvents returns the newest events first, so the
cursor may only move once *every* page of every query of the window is stored: all chunks but the last
carry ``position=""`` (cursor unchanged), the last chunk carries the new position. A read interrupted
half-way leaves the cursor where it was, and the next read queries the whole window again; the pages
already stored come back as duplicates, which storage absorbs (records are upserted by eventID). The
next window starts ``overlap_minutes`` before the position, because Event history shows an event some
minutes after it happened: a window ending at 10:00 may miss a 9:58 event that appears at 10:05.
The position is the window's end rather than the newest event seen so that quiet accounts (no root
use for weeks, the normal case) do not query an ever-growing window.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from audits.cloudtrail.classify import classify, parse_event_time
from audits.cloudtrail.screen import ScreenedRecord

from . import aws
from .aws import AwsSettings, ConfigError, SourceError
from .base import Chunk, FileProblem

__all__ = ["Clock", "LookupAccount", "LookupEventsSource", "RateLimiter", "build"]

logger = logging.getLogger(__name__)

SIGN_IN_REGION = "us-east-1"
HISTORY = timedelta(days=90)
MAX_PAGE = 50
REQUESTS_PER_SECOND = 2.0
THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)
# A safety valve against an endpoint that hands out NextTokens for ever: 2,000 pages = 100,000 events.
MAX_PAGES_PER_QUERY = 2000
_UNIT = re.compile(r"([0-9]{12})/([a-z0-9-]+)")  # ASCII digits: \d also matches other scripts


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Clock:
    """Time and chance, injectable so tests run the limiter and backoff without waiting."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = _utcnow
    # Jitter only: spreading retries needs no cryptographic randomness.
    random: Callable[[], float] = random.random


class RateLimiter:
    """At most ``rate`` calls a second, by spacing calls ``1/rate`` apart.

    A token bucket with a capacity of one: stricter than AWS's bucket (which allows short bursts) and
    therefore never over the limit, at no real cost since a read makes a handful of calls.
    """

    def __init__(self, rate: float, clock: Clock) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.next_at: float | None = None

    def wait(self) -> None:
        now = self.clock.monotonic()
        if self.next_at is not None and now < self.next_at:
            self.clock.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


@dataclass(frozen=True)
class LookupAccount:
    account_id: str
    role_arn: str | None = None
    # The management or delegated administrator account: also look up its AssumeRoot calls.
    assume_root_calls: bool = False


class _GiveUp(Exception):
    """A query could not be completed; the reason is for the run page."""


@dataclass
class LookupEventsSource:
    """Reads root events from Event history, one unit per account and region."""

    settings: AwsSettings
    accounts: list[LookupAccount]
    regions: list[str]
    lookback: timedelta = timedelta(hours=24)
    overlap: timedelta = timedelta(minutes=15)
    max_retries: int = 4
    page_size: int = MAX_PAGE
    rate: float = REQUESTS_PER_SECOND
    base_backoff: float = 1.0
    max_backoff: float = 20.0
    clock: Clock = field(default_factory=Clock)

    def units(self) -> list[str]:
        return [f"{account.account_id}/{region}" for account in self.accounts for region in self.regions]

    def read(self, unit: str, position: str) -> Iterator[Chunk]:
        match = _UNIT.fullmatch(unit)
        account = next((a for a in self.accounts if match and a.account_id == match.group(1)), None)
        if match is None or account is None:
            raise SourceError(f"lookup {unit}", "not a unit of this source (an account not configured)")
        region = match.group(2)
        end = self.clock.now().replace(microsecond=0)
        start = self._start(position, end)
        queries = [("Username", "root")]
        if account.assume_root_calls:
            queries.append(("EventName", "AssumeRoot"))
        limiter = RateLimiter(self.rate, self.clock)
        try:
            client = aws.client("cloudtrail", self.settings.with_role(account.role_arn).in_region(region))
        except (ClientError, BotoCoreError, ConfigError) as exc:
            raise SourceError(f"lookup {unit}", f"cannot connect: {aws.describe_error(exc)}") from exc
        for index, (key, value) in enumerate(queries):
            last_query = index == len(queries) - 1
            params: dict[str, Any] = {
                "LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}],
                "StartTime": start,
                "EndTime": end,
                "MaxResults": self.page_size,
            }
            for page_number in range(MAX_PAGES_PER_QUERY):
                try:
                    response = self._call(client, limiter, params)
                except _GiveUp as exc:
                    raise SourceError(f"lookup {unit} {key}={value}", str(exc)) from exc
                token = response.get("NextToken")
                events = response.get("Events") or []
                final = last_query and not token
                if events or final:
                    yield self._chunk(unit, events, position=_iso(end) if final else "")
                if not token:
                    break
                # AWS requires the same parameters on every page of a query, the token added.
                params["NextToken"] = token
                logger.debug("lookup %s %s=%s: page %d", unit, key, value, page_number + 2)
            else:
                raise SourceError(
                    f"lookup {unit} {key}={value}",
                    f"more than {MAX_PAGES_PER_QUERY} pages: stopped, the window will be read again",
                )

    def _start(self, position: str, end: datetime) -> datetime:
        since = parse_event_time(position) if position else None
        # min(): a cursor in the future (a clock that was wrong) must not hide the present.
        start = end - self.lookback if since is None else min(since, end) - self.overlap
        return max(start, end - HISTORY)

    def _call(self, client: Any, limiter: RateLimiter, params: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(self.max_retries + 1):
            limiter.wait()
            try:
                response: dict[str, Any] = client.lookup_events(**params)
                return response
            except ClientError as exc:
                if aws.error_code(exc) not in THROTTLING_CODES:
                    raise _GiveUp(f"LookupEvents failed: {aws.describe_error(exc)}") from exc
                if attempt == self.max_retries:
                    raise _GiveUp(
                        f"LookupEvents still throttled after {self.max_retries} retries: "
                        f"{aws.describe_error(exc)}"
                    ) from exc
                # "Equal jitter": the wait grows with each attempt but workers throttled together spread out.
                ceiling = min(self.max_backoff, self.base_backoff * 2**attempt)
                self.clock.sleep(ceiling / 2 + self.clock.random() * ceiling / 2)
            except BotoCoreError as exc:
                raise _GiveUp(f"LookupEvents failed: {aws.describe_error(exc)}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _chunk(self, unit: str, events: list[dict[str, Any]], *, position: str) -> Chunk:
        chunk = Chunk(position=position, records_read=len(events))
        for event in events:
            record, reason = _record_of(event)
            if record is None:
                name = f"lookup {unit} event {event.get('EventId') or '(no EventId)'}"
                chunk.problems.append(FileProblem(name, reason))
                continue
            classification = classify(record)
            if classification.is_root or classification.is_assume_root_call:
                chunk.records.append(ScreenedRecord(record, classification))
        return chunk


def _record_of(event: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str]:
    raw = event.get("CloudTrailEvent")
    if not isinstance(raw, str):
        return None, "the event has no CloudTrailEvent"
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return None, f"CloudTrailEvent is not valid JSON: {exc}"
    if not isinstance(record, dict):
        return None, "CloudTrailEvent is not a JSON object"
    return record, ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build(config: Mapping[str, Any], *, clock: Clock | None = None) -> LookupEventsSource:
    role_name = aws.optional_text(config, "role_name")
    accounts = [_account(item, role_name) for item in _list(config, "accounts", required=True)]
    if len({account.account_id for account in accounts}) != len(accounts):
        raise ConfigError("accounts lists an account twice")
    regions = aws.text_list(config, "regions") or []
    # Root sign-in (and IAM and STS calls through global endpoints) are logged in us-east-1 only.
    regions = sorted({SIGN_IN_REGION, *regions})
    lookback_hours = aws.positive_float(config, "lookback_hours", 24.0)
    overlap = config.get("overlap_minutes", 15)
    if isinstance(overlap, bool) or not isinstance(overlap, int | float) or overlap < 0:
        raise ConfigError("overlap_minutes must be a number of minutes, 0 or more")
    return LookupEventsSource(
        settings=aws.aws_settings(config, retry_mode="adaptive", max_attempts=3),
        accounts=accounts,
        regions=regions,
        lookback=min(timedelta(hours=lookback_hours), HISTORY),
        overlap=timedelta(minutes=overlap),
        max_retries=_count(config, "max_retries", 4),
        page_size=min(aws.positive_int(config, "page_size", MAX_PAGE), MAX_PAGE),
        clock=clock or Clock(),
    )


def _account(item: Any, role_name: str | None) -> LookupAccount:
    if isinstance(item, str):
        item = {"account_id": item}
    if not isinstance(item, Mapping):
        raise ConfigError("each account is an account id or {account_id, role_arn, assume_root_calls}")
    account_id = aws.require_text(item, "account_id")
    if not re.fullmatch(r"[0-9]{12}", account_id):  # ASCII only, as AWS writes account ids
        raise ConfigError(f"account_id {account_id!r} is not a 12-digit account id")
    role_arn = aws.optional_text(item, "role_arn")
    if role_arn is None and role_name is not None:
        role_arn = f"arn:aws:iam::{account_id}:role/{role_name}"
    return LookupAccount(account_id, role_arn, bool(item.get("assume_root_calls", False)))


def _list(config: Mapping[str, Any], key: str, *, required: bool) -> list[Any]:
    value = config.get(key)
    if value is None or value == []:
        if required:
            raise ConfigError(f"{key} is required")
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{key} must be a list")
    return value


def _count(config: Mapping[str, Any], key: str, default: int) -> int:
    value: object = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{key} must be 0 or a positive integer")
    return value
