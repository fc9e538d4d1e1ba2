"""Reading and classifying CloudTrail records: pure Python, no Django (see docs/architecture.md).

* ``classify``: what one record says (root or not, console login, MFA, AssumeRoot, finding kinds).
* ``reader``: every record of a log file (delivery format, JSON Lines, gzip), problems reported; it puts
  together ``inflate`` (gzip/zlib streaming), ``layout`` (which format a file has, which records a JSON
  value holds), ``framing`` (the records of each format) and ``problems`` (``LogFileError``,
  ``RecordProblem``).
* ``screen``: the root records of a log file, found by searching bytes before parsing any JSON
  (``ScreenStream``: the same in bounded batches, for files of any size).
* ``limits``: the caps on one file (decompressed bytes, records).
"""

from __future__ import annotations

from .classify import Classification, RecordFindingKind, classify, event_digest, parse_event_time
from .inflate import DecompressedChunks
from .layout import records_of
from .limits import FileLimits
from .problems import LogFileError, RecordProblem
from .reader import FileReadResult, RecordReader, iter_file_records, read_file
from .screen import ScanResult, ScreenedRecord, ScreenStream, scan_file, scan_stream

__all__ = [
    "Classification",
    "DecompressedChunks",
    "FileLimits",
    "FileReadResult",
    "LogFileError",
    "RecordFindingKind",
    "RecordProblem",
    "RecordReader",
    "ScanResult",
    "ScreenStream",
    "ScreenedRecord",
    "classify",
    "event_digest",
    "iter_file_records",
    "parse_event_time",
    "read_file",
    "records_of",
    "scan_file",
    "scan_stream",
]
