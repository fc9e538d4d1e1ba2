"""Framing (:mod:`audits.cloudtrail.framing`): the records of a delivery file, a JSON Lines file or a
single document, with record problems reported and the records around them kept."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from audits.cloudtrail.framing import json_lines_records
from audits.cloudtrail.reader import RecordReader, read_file

from .support import (
    RECORDS,
    delivery_bytes,
    eventbridge,
    iam_user_record,
    root_login_record,
    write_delivery,
    write_lines,
)


def test_it_streams_records_bigger_than_a_chunk(tmp_path: Path) -> None:
    records = [iam_user_record(i) for i in range(200)]
    records[7]["requestParameters"] = {"policy": "é" * 5000}
    path = write_delivery(tmp_path / "trail.json.gz", records)

    reader = RecordReader.for_path(path, chunk_size=1000)

    assert list(reader) == records
    assert reader.problems == []
    assert reader.records_read == 200


def test_it_reads_json_lines_and_unwraps_eventbridge_events(tmp_path: Path) -> None:
    root = root_login_record()
    path = write_lines(
        tmp_path / "events.jsonl.gz", [RECORDS[0], eventbridge(root), {"Records": RECORDS[1:3]}]
    )

    result = read_file(path)

    assert result.ok
    assert result.layout == "jsonl"
    assert result.records == [RECORDS[0], root, *RECORDS[1:3]]


def test_a_bad_json_line_is_reported_and_the_other_lines_are_kept(tmp_path: Path) -> None:
    lines = [RECORDS[0], b'{"eventVersion": "1.08", "eventName": ', RECORDS[1], b"", b"42", RECORDS[2]]
    path = write_lines(tmp_path / "events.jsonl", lines)

    result = read_file(path)

    assert result.records == RECORDS[:3]
    assert result.error is None
    assert [problem.line for problem in result.problems] == [2, 5]
    assert result.reasons[0].startswith("invalid JSON at line 2 column")
    assert "line 5" in result.reasons[1]


def test_a_json_lines_file_with_a_bad_first_line_keeps_the_rest(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.jsonl", [b'{"eventVersion": "1.0', RECORDS[0], RECORDS[1]])

    result = read_file(path)

    assert result.records == RECORDS[:2]
    assert [problem.line for problem in result.problems] == [1]


def test_hostile_json_lines_are_reported_not_crashed_on(tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    huge_number = b'{"eventName": ' + b"9" * 5000 + b"}"
    path = write_lines(tmp_path / "hostile.jsonl", [RECORDS[0], deep, huge_number, RECORDS[1]])

    result = read_file(path)

    assert result.records == RECORDS[:2]
    assert [problem.line for problem in result.problems] == [2, 3]
    assert "nested too deeply" in result.reasons[0]


@pytest.mark.parametrize("name", ["deep.json", "deep.json.gz"])
def test_a_deeply_nested_delivery_file_is_reported_not_crashed_on(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    data = b'{"Records":[' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)

    result = read_file(path)

    assert result.error is not None
    assert "nested too deeply" in result.error.reason


def test_records_before_the_damage_in_a_delivery_file_are_kept(tmp_path: Path) -> None:
    data = delivery_bytes(RECORDS)
    cut = data.index(b'{"eventVersion"', data.index(b'"eventID"') + 1) + 30  # inside the second record
    path = tmp_path / "truncated.json.gz"
    path.write_bytes(gzip.compress(data[:cut]))

    result = read_file(path)

    assert result.records == RECORDS[:1]
    assert result.error is not None
    assert "truncated" in result.error.reason


def test_an_element_of_records_that_is_not_an_object_is_skipped_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "trail.json"
    path.write_bytes(b'{"Records":[{"eventName":"A"}, 42, {"eventName":"B"}]}')

    result = read_file(path)

    assert result.records == [{"eventName": "A"}, {"eventName": "B"}]
    assert result.reasons == ["Records[1] is not a JSON object"]


def test_records_missing_fields_are_read_as_they_are(tmp_path: Path) -> None:
    odd = [{}, {"eventName": None}, {"userIdentity": "Root"}, {"eventTime": 12}]
    path = write_delivery(tmp_path / "odd.json.gz", odd)

    assert read_file(path).records == odd


def test_json_lines_framing_reports_each_bad_line_with_its_number() -> None:
    chunks = iter([b'{"eventName": "A"}\nnot js', b'on\n\n{"eventName": "B"}'])
    reported: list[tuple[str, int | None]] = []

    records = list(json_lines_records(chunks, report=lambda reason, line: reported.append((reason, line))))

    assert records == [{"eventName": "A"}, {"eventName": "B"}]
    assert [line for _, line in reported] == [2]
