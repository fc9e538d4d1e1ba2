from __future__ import annotations

import gzip
import io
import json
import zlib
from pathlib import Path

import pytest

from audits.cloudtrail.reader import (
    LogFileError,
    RecordProblem,
    RecordReader,
    iter_file_records,
    read_file,
)

from .support import (
    delivery_bytes,
    eventbridge,
    iam_user_record,
    root_login_record,
    shared_dir,
    write_delivery,
    write_lines,
)

RECORDS = [iam_user_record(i) for i in range(5)]


@pytest.mark.parametrize("name", ["trail.json", "trail.json.gz", "trail.gz", "trail.json.txt"])
def test_it_reads_a_delivery_file_plain_or_gzipped_whatever_its_name(tmp_path: Path, name: str) -> None:
    path = write_delivery(tmp_path / name, RECORDS)

    result = read_file(path)

    assert result.ok
    assert result.records == RECORDS
    assert result.layout == "cloudtrail"
    assert result.compressed == name.endswith(".gz")
    assert result.bytes_uncompressed == len(delivery_bytes(RECORDS))


def test_it_detects_gzip_by_its_magic_bytes_not_its_name(tmp_path: Path) -> None:
    gzipped_without_suffix = tmp_path / "trail.json"
    gzipped_without_suffix.write_bytes(gzip.compress(delivery_bytes(RECORDS)))
    plain_named_gz = tmp_path / "plain.json.gz"
    plain_named_gz.write_bytes(delivery_bytes(RECORDS))

    assert read_file(gzipped_without_suffix).records == RECORDS
    assert read_file(plain_named_gz).records == RECORDS


def test_it_reads_zlib_streams_and_concatenated_gzip_members(tmp_path: Path) -> None:
    zlib_file = tmp_path / "trail.z"
    zlib_file.write_bytes(zlib.compress(delivery_bytes(RECORDS)))
    data = delivery_bytes(RECORDS)
    members = tmp_path / "members.gz"
    members.write_bytes(gzip.compress(data[:100]) + gzip.compress(data[100:]))

    assert read_file(zlib_file).records == RECORDS
    assert read_file(members).records == RECORDS


def test_it_reads_a_pretty_printed_delivery_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "pretty.json"
    path.write_bytes(b"\xef\xbb\xbf" + delivery_bytes(RECORDS, pretty=True))

    result = read_file(path)

    assert result.ok
    assert result.records == RECORDS


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


def test_iter_file_records_collects_line_problems_into_the_given_list(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.jsonl", [RECORDS[0], b"not json", RECORDS[1]])
    problems: list[RecordProblem] = []

    records = list(iter_file_records(path, problems=problems))

    assert records == RECORDS[:2]
    assert [problem.line for problem in problems] == [2]


def test_iter_file_records_raises_line_problems_after_the_good_records_without_a_list(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.jsonl", [RECORDS[0], b"not json", RECORDS[1]])
    seen = []

    with pytest.raises(LogFileError, match="invalid JSON at line 2"):
        seen.extend(iter_file_records(path))

    assert seen == RECORDS[:2]


def _corrupt_crc(data: bytes) -> bytes:
    damaged = bytearray(gzip.compress(data))
    damaged[-8] ^= 0xFF  # the CRC32 in the gzip trailer
    return bytes(damaged)


DAMAGED = [
    (_corrupt_crc(delivery_bytes(RECORDS)), "corrupt gzip: CRC check failed"),
    (gzip.compress(delivery_bytes(RECORDS))[:-30], "truncated gzip"),
    (b"\x1f\x8b", "truncated gzip"),
    (gzip.compress(delivery_bytes(RECORDS)) + b"garbage", "unexpected data after the end of the gzip"),
    (b"\x1f\x8b\x08\x00" + b"\xff" * 40, "gzip"),
    (b"", "empty file"),
    (b"  \n\t ", "empty file"),
    (gzip.compress(b""), "empty file"),
    (b'{"Records": "nope"}', "Records is not an array"),
    (b'{"records": []}', "no Records array"),
    (b'{\n  "something": "else"\n}', "no Records array"),
    (b'{"Records":[{"eventName":"A"},{"eventName":', "the file ends inside record 2 (truncated?)"),
    (b'{"Records":[{"eventName":"A"},', "the file ends inside the Records array after 1 records"),
    (b'{"Records":[{"eventName":"A"} {"eventName":"B"}]}', "expected ',' or ']' after record 1"),
    (b'{"Records":[{"eventName":"A"},]}', "invalid JSON at line 1 column 31"),
    (b'{"Records":[{"eventName":"A"}]} trailing', "unexpected data after the end"),
    (b"hello", "not JSON"),
    (b"BZh91AY&SY", "looks like a bzip2 file"),
    (b'{"Records":[{"eventName":"\xff"}]}', "invalid UTF-8"),
]


@pytest.mark.parametrize(("content", "reason"), DAMAGED, ids=[reason for _, reason in DAMAGED])
def test_a_damaged_file_is_reported_with_a_reason_and_never_crashes(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "damaged.json.gz"
    path.write_bytes(content)

    result = read_file(path)

    assert result.error is not None
    assert reason in result.error.reason
    assert result.error.path == str(path)


def test_records_before_the_damage_in_a_delivery_file_are_kept(tmp_path: Path) -> None:
    data = delivery_bytes(RECORDS)
    cut = data.index(b'{"eventVersion"', data.index(b'"eventID"') + 1) + 30  # inside the second record
    path = tmp_path / "truncated.json.gz"
    path.write_bytes(gzip.compress(data[:cut]))

    result = read_file(path)

    assert result.records == RECORDS[:1]
    assert result.error is not None
    assert "truncated" in result.error.reason


def test_records_before_a_corrupt_gzip_block_are_kept(tmp_path: Path) -> None:
    records = [iam_user_record(i) for i in range(3000)]
    compressed = bytearray(gzip.compress(delivery_bytes(records), compresslevel=1))
    for index in range(len(compressed) // 2, len(compressed) // 2 + 64):
        compressed[index] ^= 0x55
    path = tmp_path / "corrupt.json.gz"
    path.write_bytes(bytes(compressed))

    result = read_file(path)

    assert result.error is not None
    assert "gzip" in result.error.reason
    assert 0 < len(result.records) < 3000
    assert result.records == records[: len(result.records)]


def test_a_small_truncated_json_lines_file_keeps_its_whole_lines(tmp_path: Path) -> None:
    data = b"\n".join(json.dumps(record).encode() for record in RECORDS[:2]) + b'\n{"eventName": "cut'
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(gzip.compress(data)[:-12])  # the gzip trailer and a little data are gone

    result = read_file(path)

    assert result.records == RECORDS[:2]
    assert result.error is not None
    assert "truncated gzip" in result.error.reason


def test_a_single_record_file_that_lost_its_gzip_trailer_keeps_the_record(tmp_path: Path) -> None:
    path = tmp_path / "record.json.gz"
    path.write_bytes(gzip.compress(json.dumps(RECORDS[0]).encode())[:-8])

    result = read_file(path)

    assert result.records == RECORDS[:1]
    assert result.error is not None
    assert "truncated gzip" in result.error.reason


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


def test_a_missing_file_is_a_log_file_error(tmp_path: Path) -> None:
    result = read_file(tmp_path / "absent.json.gz")

    assert result.error is not None
    assert result.error.reason.startswith("cannot read")


def test_a_reader_works_on_any_byte_stream() -> None:
    data = gzip.compress(delivery_bytes(RECORDS))

    reader = RecordReader(lambda: io.BytesIO(data), name="s3://bucket/key.json.gz")

    assert list(reader) == RECORDS
    assert reader.compressed


def test_it_reads_the_real_logs_in_full() -> None:
    logs = shared_dir("logs")

    counts = {path.name: len(read_file(path).records) for path in sorted(logs.glob("*.json"))}

    assert counts == {
        "invictus-ir__aws_dataset__2023-07-10.json": 2900,
        "stratus-red-team__detonation-logs.json": 310,
    }
