"""Which layout a log file has, from its first decompressed bytes, and which records a JSON value holds.

* ``cloudtrail``: CloudTrail's delivery format ``{"Records": [...]}``, compact or pretty-printed.
* ``jsonl``: JSON Lines, one record (or EventBridge event, or ``{"Records": [...]}``) per line.
* ``document``: any other single JSON document (a bare record, an EventBridge event, an array of records,
  the output of ``aws cloudtrail lookup-events``).
* ``empty`` and ``unknown``: nothing to read, or not JSON (``unknown_reason`` says what it looks like).

Decided from the content, never from the file name.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "BOM",
    "RECORD_KEYS",
    "RECORD_LIMIT",
    "detect_layout",
    "json_failure",
    "records_of",
    "unknown_reason",
]

# One record (delivery layout) or one line (JSON Lines) larger than this is refused. CloudTrail caps
# requestParameters at 100 KB and additionalEventData at 28 KB, so real records are far smaller.
RECORD_LIMIT = 16 << 20

BOM = b"\xef\xbb\xbf"
_JSON_WS = b" \t\r\n"
_DELIVERY_PREFIX = re.compile(rb'\{\s*"Records"\s*:\s*\[')
# Keys that only a CloudTrail record (not an envelope or a nested object such as userIdentity) carries.
RECORD_KEYS = frozenset(
    {"eventVersion", "eventName", "eventSource", "eventTime", "eventID", "eventType", "userIdentity"}
)
_OTHER_FORMATS = (
    (b"BZh", "a bzip2 file"),
    (b"\xfd7zXZ\x00", "an xz file"),
    (b"\x28\xb5\x2f\xfd", "a zstd file"),
    (b"PK\x03\x04", "a zip archive"),
)


def detect_layout(head: bytes, *, complete: bool) -> str | None:
    """``cloudtrail``, ``jsonl``, ``document``, ``empty`` or ``unknown`` from the first decompressed bytes.

    Returns None while ``head`` is too short to tell and more data may follow (``complete`` false).
    """
    start = len(BOM) if head.startswith(BOM) else 0
    while start < len(head) and head[start] in _JSON_WS:
        start += 1
    if start >= len(head):
        return "empty" if complete else None
    first = head[start]
    if first == ord("["):
        return "document"
    if first != ord("{"):
        return "unknown"
    if _DELIVERY_PREFIX.match(head, start):
        return "cloudtrail"
    if not complete and len(head) - start < 4096:
        return None  # the "Records" key may still be coming after a long run of whitespace
    newline = head.find(b"\n", start)
    if newline < 0:
        if not complete and len(head) < RECORD_LIMIT:
            return None
        newline = len(head)
    if not head[newline:].strip():
        if not complete:
            return None
        return "document"  # a single line is a single document, not a one-line JSON Lines file
    line = head[start:newline].rstrip()
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        # The first line of a pretty-printed document is an unfinished value ("{", '"key": {', ...);
        # anything else is a JSON Lines file whose first line is damaged.
        return "document" if line.endswith((b"{", b"[", b",", b":")) else "jsonl"
    return "jsonl"


def unknown_reason(head: bytes) -> str:
    stripped = head.lstrip(BOM).lstrip(_JSON_WS)
    for magic, what in _OTHER_FORMATS:
        if stripped.startswith(magic):
            return f"not JSON: looks like {what} (only gzip is supported)"
    return f"not JSON: it starts with {_printable(stripped[:16])}"


def _printable(head: bytes) -> str:
    """The first bytes as a person reads them (quoted text, other bytes as dots), never a
    Python ``b'...'`` literal."""
    text = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in head)
    return f"“{text}”" if text.strip(".") else "bytes that are not text"


def records_of(value: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The CloudTrail records held by one parsed JSON value, and the reasons for any parts skipped.

    Understands a record, ``{"Records": [...]}``, an EventBridge event (its ``detail``), a labelled
    example ``{"label": ..., "event": <record>}``, a list of those, and ``lookup-events`` output
    (``{"Events": [{"CloudTrailEvent": "<json>"}]}``).
    """
    records: list[dict[str, Any]] = []
    skipped: list[str] = []
    _collect(value, records, skipped, "")
    return records, skipped


def _collect(value: Any, records: list[dict[str, Any]], skipped: list[str], where: str) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _collect(item, records, skipped, f"{where}[{index}]")
        return
    if not isinstance(value, dict):
        skipped.append(f"{where or 'the value'} is not a JSON object")
        return
    if "Records" in value:
        if isinstance(value["Records"], list):
            _collect(value["Records"], records, skipped, f"{where}Records")
        else:
            skipped.append(f"{where}Records is not an array")
        return
    if "detail" in value and ("detail-type" in value or "source" in value):
        if isinstance(value["detail"], dict):
            records.append(value["detail"])
        else:
            skipped.append(f"{where or 'EventBridge event'} has no detail object")
        return
    if isinstance(value.get("Events"), list):
        for index, item in enumerate(value["Events"]):
            raw = item.get("CloudTrailEvent") if isinstance(item, dict) else None
            try:
                parsed = json.loads(raw) if isinstance(raw, str) else None
            except (ValueError, RecursionError) as exc:
                skipped.append(f"{where}Events[{index}].CloudTrailEvent is invalid JSON: {json_failure(exc)}")
                continue
            if isinstance(parsed, dict):
                records.append(parsed)
            else:
                skipped.append(f"{where}Events[{index}] has no CloudTrailEvent object")
        return
    if RECORD_KEYS.isdisjoint(value) and isinstance(value.get("event"), dict):
        # A labelled example ({"source", "label", "event"}), as in the project's test fixtures: the
        # record is its "event".
        _collect(value["event"], records, skipped, f"{where}event")
        return
    if RECORD_KEYS.isdisjoint(value):
        skipped.append(
            f"{where} is not a CloudTrail record"
            if where
            else "no Records array, and not a CloudTrail record, an array of records or an EventBridge event"
        )
        return
    records.append(value)


def json_failure(exc: ValueError | RecursionError) -> str:
    """Why ``json`` refused a value, for people (shared with :mod:`.framing`)."""
    # json raises RecursionError on deep nesting and ValueError on over-long integers: hostile input that
    # must end as a reason, not as a crashed worker.
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
