"""moto extended where it falls short, for the tests that talk to AWS.

Production code only ever sees boto3; here moto answers it. The fixtures that switch moto on
(``aws_credentials``, ``mocked_aws``, ``moto_server``, ``lookup_events``) are in ``conftest.py`` beside
this module; this module holds what they use:

* ``install_lookup_events``: moto 5 raises ``NotImplementedError`` for ``cloudtrail:LookupEvents``.
  This adds it to moto's CloudTrail responses (so it works in-process and through the server alike), answering
  from a ``LookupEventsStore`` the test fills. It behaves as AWS documents the API: one lookup
  attribute, ``MaxResults`` 1-50 (default 50), newest events first, ``StartTime``/``EndTime``
  inclusive, ``NextToken`` valid only with the same parameters, and each event carrying its record as
  the ``CloudTrailEvent`` JSON string. ``store.throttle(n)`` makes the next ``n`` calls fail with
  ``ThrottlingException``, as AWS does above 2 requests/s.

Events are kept per account and region: the account is the one moto derives from the caller's
credentials (credentials from ``sts:AssumeRole`` belong to the role's account), so a source that
assumes a role per account sees that account's events only, as in AWS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import JsonRESTError

from audits.cloudtrail.classify import parse_event_time

__all__ = ["LookupCall", "LookupEventsStore", "install_lookup_events", "lookup_username"]

DEFAULT_ACCOUNT = "123456789012"  # moto's account for credentials it did not issue
_ATTRIBUTE_KEYS = {
    "EventId": "EventId",
    "EventName": "EventName",
    "ReadOnly": "ReadOnly",
    "Username": "Username",
    "EventSource": "EventSource",
    "AccessKeyId": "AccessKeyId",
}


# --- LookupEvents ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LookupCall:
    """One LookupEvents request as moto received it."""

    account: str
    region: str
    params: dict[str, Any]
    at: float
    throttled: bool


@dataclass
class LookupEventsStore:
    """The Event history moto's ``lookup_events`` answers from, and a record of the calls made."""

    events: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    calls: list[LookupCall] = field(default_factory=list)
    # What ``LookupCall.at`` is measured with; a test with a fake clock can pass its own.
    clock: Callable[[], float] = time.monotonic
    throttle_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        record: dict[str, Any],
        *,
        account: str | None = None,
        region: str | None = None,
        username: str | None = None,
    ) -> None:
        """Put a CloudTrail record in the history of its account and region (or the ones given)."""
        identity = record.get("userIdentity") or {}
        account = account or record.get("recipientAccountId") or identity.get("accountId") or DEFAULT_ACCOUNT
        region = region or record.get("awsRegion") or "us-east-1"
        event_time = parse_event_time(record.get("eventTime")) or datetime.now(UTC)
        event: dict[str, Any] = {
            "EventId": record.get("eventID"),
            "EventName": record.get("eventName"),
            "ReadOnly": "true" if record.get("readOnly") else "false",
            "AccessKeyId": identity.get("accessKeyId") or None,
            "EventTime": event_time,
            "EventSource": record.get("eventSource"),
            "Username": username if username is not None else lookup_username(record),
            "Resources": [],
            "CloudTrailEvent": json.dumps(record),
        }
        with self.lock:
            self.events[(account, region)].append(event)

    def throttle(self, count: int) -> None:
        """The next ``count`` LookupEvents calls (any account or region) fail with ThrottlingException."""
        with self.lock:
            self.throttle_next = count

    def served(self, account: str | None = None, region: str | None = None) -> list[LookupCall]:
        """The calls that were answered (not throttled), optionally for one account and region."""
        return [
            call
            for call in self.calls
            if not call.throttled
            and (account is None or call.account == account)
            and (region is None or call.region == region)
        ]


def lookup_username(record: dict[str, Any]) -> str | None:
    """The ``Username`` Event history shows for a record: "root" for root, else the caller's name."""
    identity = record.get("userIdentity") or {}
    kind = identity.get("type")
    if kind == "Root":
        return "root"
    if kind == "IAMUser":
        return identity.get("userName")
    if kind == "AssumedRole":
        arn = identity.get("arn") or ""
        return arn.rsplit("/", 1)[-1] or None  # the role session name
    if kind == "AWSService":
        return identity.get("invokedBy")
    return identity.get("userName") or identity.get("principalId")


_store: LookupEventsStore | None = None


def install_lookup_events(store: LookupEventsStore) -> Callable[[], None]:
    """Teach moto's CloudTrail ``LookupEvents``; returns the function that takes it away again."""
    global _store
    _store = store
    # moto dispatches to a response method named after the action, found on the class.
    CloudTrailResponse.lookup_events = _lookup_events  # type: ignore[attr-defined]

    def uninstall() -> None:
        global _store
        _store = None
        if "lookup_events" in vars(CloudTrailResponse):
            del CloudTrailResponse.lookup_events  # type: ignore[attr-defined]

    return uninstall


def _lookup_events(self: CloudTrailResponse) -> str:
    store = _store
    if store is None:
        raise NotImplementedError("LookupEvents is only available inside the lookup_events fixture")
    params = json.loads(self.body or "{}")
    account, region = self.current_account, self.region
    with store.lock:
        throttled = store.throttle_next > 0
        if throttled:
            store.throttle_next -= 1
        store.calls.append(LookupCall(account, region, params, store.clock(), throttled))
        events = list(store.events.get((account, region), []))
    if throttled:
        raise JsonRESTError("ThrottlingException", "Rate exceeded")

    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise JsonRESTError(
            "InvalidLookupAttributesException", "You cannot specify more than one lookup attribute."
        )
    max_results = params.get("MaxResults", 50)
    if not 1 <= max_results <= 50:
        raise JsonRESTError("InvalidMaxResultsException", "MaxResults must be from 1 to 50.")
    start, end = _time(params.get("StartTime")), _time(params.get("EndTime"))
    if start is not None and end is not None and start > end:
        raise JsonRESTError("InvalidTimeRangeException", "StartTime must be before EndTime.")
    if params.get("EventCategory") == "insight":
        events = []

    for attribute in attributes:
        key = _ATTRIBUTE_KEYS.get(attribute.get("AttributeKey"))
        if key is None:
            raise JsonRESTError("InvalidLookupAttributesException", "Unsupported lookup attribute.")
        events = [event for event in events if event.get(key) == attribute.get("AttributeValue")]
    events = [
        event
        for event in events
        if (start is None or event["EventTime"] >= start) and (end is None or event["EventTime"] <= end)
    ]
    # Newest first, as AWS returns them; the id breaks ties so paging is stable.
    events.sort(key=lambda event: (event["EventTime"], event["EventId"] or ""), reverse=True)

    # The token remembers the query it belongs to: AWS rejects a token used with other parameters.
    query = {key: value for key, value in params.items() if key not in ("NextToken", "MaxResults")}
    fingerprint = hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:16]
    offset = 0
    if params.get("NextToken"):
        try:
            token = json.loads(base64.urlsafe_b64decode(params["NextToken"]))
            offset, token_query = int(token["offset"]), token["query"]
        except (ValueError, KeyError, TypeError) as exc:
            raise JsonRESTError("InvalidNextTokenException", "Invalid NextToken.") from exc
        if token_query != fingerprint:
            raise JsonRESTError(
                "InvalidNextTokenException", "The NextToken was used with different parameters."
            )
    page = events[offset : offset + max_results]
    body: dict[str, Any] = {
        "Events": [
            {key: value for key, value in event.items() if value is not None}
            | {"EventTime": event["EventTime"].timestamp()}
            for event in page
        ]
    }
    if offset + max_results < len(events):
        token_data = json.dumps({"offset": offset + max_results, "query": fingerprint}).encode()
        body["NextToken"] = base64.urlsafe_b64encode(token_data).decode()
    return json.dumps(body)


def _time(value: Any) -> datetime | None:
    # boto3 sends timestamps to JSON services as epoch seconds; accept ISO text too.
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return parse_event_time(value)
