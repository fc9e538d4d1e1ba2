from __future__ import annotations

import gzip
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest

from audits.cloudtrail import screen
from audits.cloudtrail.classify import classify
from audits.cloudtrail.reader import read_file
from audits.cloudtrail.screen import ScanResult, scan_file, scan_stream

from .support import (
    assume_root_call,
    compact,
    delivery_bytes,
    eventbridge,
    iam_user_record,
    load_event,
    member_root_action,
    root_login_record,
    serialised_user_records,
    shared_dir,
    write_delivery,
    write_lines,
)


def _ids(result: ScanResult) -> list[str]:
    return [found.classification.event_id for found in result.records]


def _wanted_by_full_parse(path: Path) -> list[str]:
    """What a plain parse-everything-and-classify reader would keep: the reference for the screen."""
    kept = []
    for record in read_file(path).records:
        classification = classify(record)
        if classification.is_root or classification.is_assume_root_call:
            kept.append(classification.event_id)
    return kept


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny chunks and context windows, so seams, widening and fallbacks happen on small files."""
    monkeypatch.setattr(screen, "CHUNK_SIZE", 97)
    monkeypatch.setattr(screen, "_WINDOWS", (300, 3000))
    monkeypatch.setattr(screen, "_RETAIN", 3000)


def test_the_real_logs_yield_no_root_records_by_screen_or_by_full_parse() -> None:
    logs = sorted(shared_dir("logs").glob("*.json"))
    assert len(logs) == 2

    for path in logs:
        result = scan_file(path)

        assert result.ok, path.name
        assert result.records == [], path.name
        assert result.full_parse_reason is None, path.name
        assert result.records_read == len(read_file(path).records), path.name
        assert _wanted_by_full_parse(path) == [], path.name


def test_a_root_record_buried_in_fifty_thousand_others_is_found(tmp_path: Path) -> None:
    needle = root_login_record(event_id="the-needle")
    records = serialised_user_records(50_000)
    records.insert(31_337, compact(needle))
    data = b'{"Records":[' + b",".join(records) + b"]}"
    path = tmp_path / "123456789012_CloudTrail_us-east-1_20240501T1200Z_x.json.gz"
    path.write_bytes(gzip.compress(data, compresslevel=1))

    result = scan_file(path)

    assert result.ok
    assert result.full_parse_reason is None
    assert _ids(result) == ["the-needle"]
    assert result.root_records[0].record == needle
    assert result.root_records[0].classification.finding_kinds == {"root_login_without_mfa"}
    assert result.records_read == 50_001
    assert result.bytes_uncompressed == len(data)
    assert result.compressed


def test_counting_records_can_be_left_out(tmp_path: Path) -> None:
    path = write_delivery(tmp_path / "trail.json.gz", [iam_user_record(1), root_login_record()])

    result = scan_file(path, count_records=False)

    assert _ids(result) == ["root-login-1"]
    assert result.records_read is None


def test_a_pretty_printed_root_record_is_found(tmp_path: Path) -> None:
    records = [iam_user_record(1), load_event("panther__root-login-failure.json"), iam_user_record(2)]
    path = write_delivery(tmp_path / "pretty.json", records, pretty=True)

    result = scan_file(path)

    assert result.ok
    assert result.full_parse_reason is None
    assert [found.record for found in result.root_records] == [records[1]]


def test_a_pretty_printed_single_record_is_found(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(root_login_record(), indent=4))

    result = scan_file(path)

    assert _ids(result) == ["root-login-1"]
    assert result.records_read_exact


def test_every_labelled_root_fixture_is_found_in_a_delivery_file(tmp_path: Path) -> None:
    events = [
        json.loads(p.read_text()) for p in sorted((Path(__file__).parent / "data" / "events").glob("*.json"))
    ]
    records = [case["event"] for case in events]
    expected = sum(case["label"]["is_root"] for case in events)
    path = write_delivery(tmp_path / "fixtures.json.gz", records)

    result = scan_file(path)

    assert result.full_parse_reason is None
    assert len(result.root_records) == expected
    assert [found.record for found in result.root_records] == [
        case["event"] for case in events if case["label"]["is_root"]
    ]


def test_an_assume_root_call_and_its_member_action_are_found(tmp_path: Path) -> None:
    records = [iam_user_record(1), assume_root_call(), iam_user_record(2), member_root_action()]
    path = write_delivery(tmp_path / "trail.json.gz", records)

    result = scan_file(path)

    assert [found.classification.event_id for found in result.assume_root_calls] == ["assume-root-1"]
    call = result.assume_root_calls[0].classification
    assert call.assume_root_access_key_id == "ASIAISSUEDKEY"
    assert call.assume_root_target == "222222222222"
    assert [found.classification.access_key_id for found in result.root_records] == ["ASIAISSUEDKEY"]


def test_it_screens_json_lines_of_eventbridge_events(tmp_path: Path) -> None:
    lines = [eventbridge(iam_user_record(i)) for i in range(300)]
    lines[120] = eventbridge(root_login_record(event_id="from-sqs"))
    path = write_lines(tmp_path / "events.jsonl.gz", lines)

    result = scan_file(path)

    assert result.layout == "jsonl"
    assert result.full_parse_reason is None
    assert _ids(result) == ["from-sqs"]
    assert result.records_read == 300


def test_words_containing_root_are_screen_hits_but_not_results(tmp_path: Path) -> None:
    decoys = [iam_user_record(i) for i in range(6)]
    decoys[0]["eventName"] = "ListRoots"
    decoys[1]["requestParameters"] = {"name": "Root"}
    decoys[2]["resources"] = [{"type": "Root", "ARN": "arn:aws:organizations::1:root/o-1/r-1"}]
    decoys[3]["requestParameters"] = {"policy": '{"Principal": {"AWS": "Root"}}'}
    # A record-shaped object nested in a non-root record must not pass for a record of its own.
    decoys[4]["requestParameters"] = {"event": {"eventName": "X", "userIdentity": {"type": "Root"}}}
    decoys[5]["userAgent"] = "aws-cli/2.0 command/sts.AssumeRoot"
    path = write_delivery(tmp_path / "decoys.json.gz", decoys)

    result = scan_file(path)

    assert result.screen_hits >= 4
    assert result.records == []
    assert result.full_parse_reason is None


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("offset", range(0, 97, 7))
def test_a_marker_cut_by_a_chunk_boundary_is_found(tmp_path: Path, offset: int) -> None:
    # Pad the first record so the "Root" marker of the second lands on every position around a boundary.
    first = iam_user_record(0)
    first["requestParameters"] = {"pad": "x" * offset}
    records = [first, root_login_record(), iam_user_record(2)]
    path = write_delivery(tmp_path / f"seam-{offset}.json.gz", records)

    result = scan_file(path)

    assert _ids(result) == ["root-login-1"]
    assert result.records_read == 3


@pytest.mark.usefixtures("small_chunks")
def test_the_screen_finds_exactly_what_a_full_parse_finds(tmp_path: Path) -> None:
    rng = random.Random(4)
    for round_ in range(40):
        records: list[dict[str, Any]] = []
        for index in range(rng.randint(0, 60)):
            roll = rng.random()
            if roll < 0.08:
                records.append(
                    root_login_record(mfa=rng.choice(["Yes", "No"]), event_id=f"r{round_}-{index}")
                )
            elif roll < 0.12:
                records.append(assume_root_call(event_id=f"a{round_}-{index}"))
            elif roll < 0.14:
                big = root_login_record(event_id=f"big{round_}-{index}")
                big["requestParameters"] = {"blob": "é" * rng.randint(100, 4000)}
                records.append(big)
            else:
                records.append(iam_user_record(index))
        name = rng.choice(["t.json", "t.json.gz"])
        if rng.random() < 0.3:
            path = write_lines(tmp_path / f"{round_}-{name}.jsonl", [eventbridge(r) for r in records])
        else:
            path = write_delivery(tmp_path / f"{round_}-{name}", records, pretty=rng.random() < 0.3)

        result = scan_file(path)

        assert result.error is None, path.name
        assert _ids(result) == _wanted_by_full_parse(path), path.name


@pytest.mark.usefixtures("small_chunks")
def test_a_record_larger_than_the_context_falls_back_to_a_full_parse(tmp_path: Path) -> None:
    huge = root_login_record(event_id="huge")
    huge["requestParameters"] = {"blob": "z" * 10_000}
    path = write_delivery(tmp_path / "huge.json.gz", [iam_user_record(1), huge, iam_user_record(2)])

    result = scan_file(path)

    assert _ids(result) == ["huge"]
    assert result.full_parse_reason is not None
    assert result.records_read == 3
    assert result.records_read_exact


def test_a_truncated_file_keeps_the_root_records_before_the_damage(tmp_path: Path) -> None:
    records = [iam_user_record(i) for i in range(2000)]
    records[10] = root_login_record(event_id="early")
    records[1990] = root_login_record(event_id="lost")
    data = delivery_bytes(records)
    path = tmp_path / "truncated.json.gz"
    path.write_bytes(gzip.compress(data)[: len(gzip.compress(data)) // 2])

    result = scan_file(path)

    assert _ids(result) == ["early"]
    assert result.error is not None
    assert "truncated gzip" in result.error.reason


def test_a_gzip_crc_failure_is_reported_and_the_root_record_kept(tmp_path: Path) -> None:
    damaged = bytearray(gzip.compress(delivery_bytes([iam_user_record(1), root_login_record()])))
    damaged[-8] ^= 0xFF
    path = tmp_path / "crc.json.gz"
    path.write_bytes(bytes(damaged))

    result = scan_file(path)

    assert _ids(result) == ["root-login-1"]
    assert result.error is not None
    assert result.error.reason.startswith("corrupt gzip: CRC check failed")


def test_a_delivery_file_cut_after_a_whole_record_is_reported(tmp_path: Path) -> None:
    data = delivery_bytes([root_login_record(), iam_user_record(1)])
    path = tmp_path / "cut.json"
    path.write_bytes(data[:-2])  # no closing "]}": no hit is damaged, but the file is incomplete

    result = scan_file(path)

    assert _ids(result) == ["root-login-1"]
    assert result.error is not None
    assert "truncated" in result.error.reason


def test_a_bad_json_line_near_a_hit_is_reported_and_the_other_lines_kept(tmp_path: Path) -> None:
    lines: list[Any] = [iam_user_record(0), root_login_record(event_id="good")]
    lines.append(b'{"userIdentity": {"type": "Root"}, "eventName": ')
    lines.append(iam_user_record(3))
    path = write_lines(tmp_path / "events.jsonl", lines)

    result = scan_file(path)

    assert _ids(result) == ["good"]
    assert [problem.line for problem in result.problems] == [3]
    assert result.full_parse_reason is not None


BAD_FILES = [
    (b"", "empty file"),
    (gzip.compress(b""), "empty file"),
    (b"\x1f\x8b\x08\x00garbage", "gzip"),
    (b'{"records": []}', "no Records array"),
    (b"PK\x03\x04", "zip archive"),
]


@pytest.mark.parametrize(("content", "reason"), BAD_FILES, ids=[reason for _, reason in BAD_FILES])
def test_a_bad_file_is_reported_with_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.json.gz"
    path.write_bytes(content)

    result = scan_file(path)

    assert result.records == []
    assert result.error is not None
    assert reason in result.error.reason


def test_hostile_json_around_a_hit_ends_as_a_reason(tmp_path: Path) -> None:
    deep = b'{"a":' * 50_000 + b'{"userIdentity":{"type":"Root"}}' + b"}" * 50_000
    path = tmp_path / "deep.json"
    path.write_bytes(b'{"Records":[' + compact(root_login_record()) + b"," + deep + b"]}")

    result = scan_file(path)

    assert _ids(result) == ["root-login-1"]
    assert result.error is not None
    assert "nested too deeply" in result.error.reason


def test_records_missing_fields_do_not_break_the_screen(tmp_path: Path) -> None:
    records = [{}, {"userIdentity": {"type": "Root"}}, {"userIdentity": "Root"}, {"eventName": "AssumeRoot"}]
    path = write_delivery(tmp_path / "odd.json.gz", records)

    result = scan_file(path)

    assert result.ok
    assert [found.record for found in result.records] == [records[1], records[3]]


def test_an_escaped_spelling_of_root_is_found_when_escapes_are_screened(tmp_path: Path) -> None:
    escaped = compact(root_login_record(event_id="escaped")).replace(b'"Root"', b'"\\u0052oot"')
    path = tmp_path / "escaped.json"
    path.write_bytes(b'{"Records":[' + compact(iam_user_record(1)) + b"," + escaped + b"]}")

    default = scan_file(path)
    strict = scan_file(path, escapes=True)

    # Documented trade-off: no serialiser escapes ASCII letters, so by default this is not looked for.
    assert default.records == []
    assert _ids(strict) == ["escaped"]
    assert strict.full_parse_reason is not None


def test_scan_stream_reads_any_byte_stream() -> None:
    data = gzip.compress(delivery_bytes([iam_user_record(1), root_login_record()]))

    result = scan_stream(lambda: io.BytesIO(data), name="s3://trail/AWSLogs/o-x/1/CloudTrail/x.json.gz")

    assert _ids(result) == ["root-login-1"]
    assert result.path.startswith("s3://")
    assert result.bytes_compressed == len(data)
