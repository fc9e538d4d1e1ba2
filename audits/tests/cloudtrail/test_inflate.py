"""Decompression (:mod:`audits.cloudtrail.inflate`): gzip and zlib by magic bytes, several gzip members,
and damage reported only after the data before it has been handed out."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from pathlib import Path

from audits.cloudtrail.inflate import DecompressedChunks
from audits.cloudtrail.reader import read_file

from .support import (
    RECORDS,
    delivery_bytes,
    iam_user_record,
)


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


def test_plain_bytes_pass_through_in_chunks_no_bigger_than_asked() -> None:
    data = delivery_bytes(RECORDS)

    chunks = DecompressedChunks(lambda: io.BytesIO(data), name="plain.json", chunk_size=100)
    pieces = list(chunks)

    assert b"".join(pieces) == data
    assert max(len(piece) for piece in pieces) <= 100
    assert not chunks.compressed
    assert chunks.bytes_uncompressed == chunks.bytes_compressed == len(data)


def test_gzip_chunks_are_bounded_and_counted() -> None:
    data = delivery_bytes([iam_user_record(i) for i in range(200)])
    compressed = gzip.compress(data)

    chunks = DecompressedChunks(lambda: io.BytesIO(compressed), name="trail.json.gz", chunk_size=1000)
    pieces = list(chunks)

    assert b"".join(pieces) == data
    assert max(len(piece) for piece in pieces) <= 1000
    assert chunks.compressed
    assert (chunks.bytes_compressed, chunks.bytes_uncompressed) == (len(compressed), len(data))
