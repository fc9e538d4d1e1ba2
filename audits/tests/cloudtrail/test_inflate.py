"""Decompression (:mod:`audits.cloudtrail.inflate`): gzip and zlib by magic bytes, several gzip members,
and damage reported only after the data before it has been handed out."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from audits.cloudtrail import inflate
from audits.cloudtrail.inflate import DecompressedChunks, LogFileError
from audits.cloudtrail.reader import read_file

from .support import (
    RECORDS,
    delivery_bytes,
    iam_user_record,
)


@pytest.fixture(autouse=True, params=["isal", "zlib"])
def inflater(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test twice: with ISA-L first (the default) and with zlib(-ng) alone."""
    if request.param == "zlib":
        monkeypatch.setattr(inflate, "fast_zlib", None)
    else:
        assert inflate.fast_zlib is not None, "isal is a pinned requirement"
    return str(request.param)


def _damaged(records: int = 3000) -> bytes:
    compressed = bytearray(gzip.compress(delivery_bytes([iam_user_record(i) for i in range(records)]), 1))
    for index in range(len(compressed) // 2, len(compressed) // 2 + 64):
        compressed[index] ^= 0x55
    return bytes(compressed)


def _drain(chunks: DecompressedChunks) -> tuple[bytes, str | None]:
    out = []
    try:
        for piece in chunks:
            out.append(piece)
    except LogFileError as error:
        return b"".join(out), error.reason
    return b"".join(out), None


def test_damage_is_salvaged_and_named_the_same_whichever_inflater_met_it(
    inflater: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _damaged()
    opened: list[int] = []

    def open_stream() -> io.BytesIO:
        opened.append(1)
        return io.BytesIO(data)

    got = _drain(DecompressedChunks(open_stream, name="damaged.json.gz", chunk_size=4096))
    monkeypatch.setattr(inflate, "fast_zlib", None)
    reference = _drain(DecompressedChunks(lambda: io.BytesIO(data), name="damaged.json.gz", chunk_size=4096))

    assert got == reference
    assert reference[1] is not None
    assert "corrupt gzip" in reference[1]
    assert len(reference[0]) > 0
    # ISA-L cannot salvage, so the damaged file is read once more from its start with zlib.
    assert len(opened) == (2 if inflater == "isal" else 1)


def test_a_sound_file_is_opened_once(inflater: str) -> None:
    compressed = gzip.compress(delivery_bytes(RECORDS))
    opened: list[int] = []

    def open_stream() -> io.BytesIO:
        opened.append(1)
        return io.BytesIO(compressed)

    assert b"".join(DecompressedChunks(open_stream, name="trail.json.gz")) == delivery_bytes(RECORDS)
    assert len(opened) == 1


def test_the_counts_after_a_second_pass_are_the_files_own() -> None:
    data = _damaged()
    chunks = DecompressedChunks(lambda: io.BytesIO(data), name="damaged.json.gz", chunk_size=4096)
    out, reason = _drain(chunks)

    assert reason is not None
    assert chunks.bytes_uncompressed == len(out)
    assert 0 < chunks.bytes_compressed <= len(data)
    assert chunks.failed


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
