"""Layout detection and envelopes (:mod:`audits.cloudtrail.layout`): which format a file has, from its
first bytes and never from its name, and which records a parsed JSON value holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from audits.cloudtrail.layout import detect_layout, records_of
from audits.cloudtrail.reader import read_file

from .support import (
    RECORDS,
    delivery_bytes,
    eventbridge,
    root_login_record,
)


def test_it_reads_a_pretty_printed_delivery_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "pretty.json"
    path.write_bytes(b"\xef\xbb\xbf" + delivery_bytes(RECORDS, pretty=True))

    result = read_file(path)

    assert result.ok
    assert result.records == RECORDS


def test_it_reads_other_single_documents(tmp_path: Path) -> None:
    root = root_login_record()
    lookup = {"Events": [{"EventId": "x", "CloudTrailEvent": json.dumps(root)}, {"EventId": "y"}]}
    cases = {
        "record.json": (json.dumps(root, indent=2), [root]),
        "event.json": (json.dumps(eventbridge(root), indent=2), [root]),
        "array.json": (json.dumps([root, RECORDS[0]], indent=2), [root, RECORDS[0]]),
        "lookup.json": (json.dumps(lookup, indent=2), [root]),
    }
    for name, (text, expected) in cases.items():
        (tmp_path / name).write_text(text)

        result = read_file(tmp_path / name)

        assert result.layout == "document", name
        assert result.records == expected, name
    assert read_file(tmp_path / "lookup.json").reasons == ["Events[1] has no CloudTrailEvent object"]


@pytest.mark.parametrize(
    ("head", "complete", "layout"),
    [
        (b'{"Records": [', False, "cloudtrail"),
        (b'\xef\xbb\xbf\n  {\n  "Records" : [', False, "cloudtrail"),
        (b'{"eventName": "A"}\n{"eventName": "B"}\n', True, "jsonl"),
        (b'{"eventName": "A"}\n', True, "document"),
        (b'{\n  "eventName": {\n', True, "document"),
        (b"[{}]", True, "document"),
        (b"  \n", True, "empty"),
        (b"  \n", False, None),
        (b'{"event', False, None),
        (b"hello", True, "unknown"),
    ],
)
def test_detect_layout_reads_the_first_bytes(head: bytes, complete: bool, layout: str | None) -> None:
    assert detect_layout(head, complete=complete) == layout


def test_records_of_unwraps_every_envelope_and_says_what_it_skipped() -> None:
    root = root_login_record()
    value: Any = [{"Records": [RECORDS[0], 42]}, eventbridge(root), {"detail-type": "x", "detail": "no"}]

    records, skipped = records_of(value)

    assert records == [RECORDS[0], root]
    assert skipped == ["[0]Records[1] is not a JSON object", "[2] has no detail object"]
