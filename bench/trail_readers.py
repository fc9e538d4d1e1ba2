"""The readers ``ingest_benchmark.py`` measures that need no database: plain decompression (zlib, ISA-L),
the portal's byte screen, DuckDB's ``read_json`` and the naive ``json.load`` loop. Each takes the trail's
paths and returns what it counted."""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass
from typing import Any

# The plain-zlib baseline reads and inflates in blocks small enough for glibc to serve from its heap:
# 1 MiB blocks go through mmap/munmap and their page faults make zlib itself look ~1.5x slower, which
# would flatter every ratio to it. This is the fastest plain loop measured here.
READ_SIZE = 64 << 10
OUT_CHUNK = 256 << 10


@dataclass
class Counts:
    records: int = 0
    root: int = 0
    bytes_uncompressed: int = 0


def _inflate(paths: list[str], library: Any, read_size: int, out_chunk: int) -> Counts:
    """Plain streaming decompression with ``library`` (zlib's API), bounded output per call, as any
    reader of a 1 GB file must."""
    counts = Counts()
    for path in paths:
        with open(path, "rb") as stream:
            inflater = library.decompressobj(47)
            while data := stream.read(read_size):
                while data:
                    counts.bytes_uncompressed += len(inflater.decompress(data, out_chunk))
                    data = inflater.unconsumed_tail
    return counts


def read_zlib(paths: list[str]) -> Counts:
    """Python's zlib: the floor any reader pays."""
    return _inflate(paths, zlib, READ_SIZE, OUT_CHUNK)


def read_zlib_1m(paths: list[str]) -> Counts:
    """The same with 1 MiB blocks (the screen's old chunk size): for comparison only, since glibc
    serves such blocks through mmap/munmap and their page faults slow zlib itself down."""
    return _inflate(paths, zlib, 256 << 10, 1 << 20)


def read_screen(paths: list[str]) -> Counts:
    from audits.cloudtrail.screen import scan_file

    counts = Counts()
    for path in paths:
        result = scan_file(path)
        if not result.ok:
            raise SystemExit(f"the screen rejected {path}: {result.reasons}")
        counts.records += result.records_read or 0
        counts.root += len(result.root_records)
        counts.bytes_uncompressed += result.bytes_uncompressed
    return counts


def read_isal(paths: list[str]) -> Counts:
    """The same plain decompression with ISA-L (what ``inflate.py`` uses first): a second floor."""
    from isal import isal_zlib

    return _inflate(paths, isal_zlib, READ_SIZE, OUT_CHUNK)


def read_duckdb(paths: list[str]) -> Counts:
    """DuckDB's ``read_json`` over the same files (all its threads; CPU time counts them all): records and
    root records, each record kept as JSON text rather than inferring the schema of every field."""
    import duckdb

    query = """
        SELECT sum(len(Records)),
               sum(len(list_filter(
                   Records, lambda r: json_extract_string(r, '$.userIdentity.type') = 'Root'
               )))
        FROM read_json(?, columns = {'Records': 'JSON[]'}, format = 'auto', maximum_object_size = 268435456)
    """
    row = duckdb.connect().execute(query, [paths]).fetchone()
    assert row is not None
    return Counts(records=int(row[0] or 0), root=int(row[1] or 0))


def read_json(paths: list[str]) -> Counts:
    counts = Counts()
    for path in paths:
        with gzip.open(path, "rb") as stream:
            document = json.load(stream)
        for record in document["Records"]:
            counts.records += 1
            identity = record.get("userIdentity")
            if isinstance(identity, dict) and identity.get("type") == "Root":
                counts.root += 1
    return counts
