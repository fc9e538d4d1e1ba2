"""The reader as a whole (:mod:`audits.cloudtrail.reader`): any layout plain or gzipped whatever its name,
every damaged file reported with a reason and never a crash, and the ways to call it."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from audits.cloudtrail.problems import LogFileError, RecordProblem
from audits.cloudtrail.reader import RecordReader, iter_file_records, read_file

from .support import (
    RECORDS,
    delivery_bytes,
    shared_dir,
    write_delivery,
    write_lines,
)


@pytest.mark.parametrize("name", ["trail.json", "trail.json.gz", "trail.gz", "trail.json.txt"])
def test_it_reads_a_delivery_file_plain_or_gzipped_whatever_its_name(tmp_path: Path, name: str) -> None:
    path = write_delivery(tmp_path / name, RECORDS)

    result = read_file(path)

    assert result.ok
    assert result.records == RECORDS
    assert result.layout == "cloudtrail"
    assert result.compressed == name.endswith(".gz")
    assert result.bytes_uncompressed == len(delivery_bytes(RECORDS))


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
