"""Streaming readers for CloudTrail log files: every record, with problems reported and good data kept.

Reading one file is four jobs, one module each:

* :mod:`.inflate`: the decompressed bytes, gzip (or zlib) detected by magic bytes, in bounded chunks;
* :mod:`.layout`: which layout the bytes have (``cloudtrail`` delivery format, ``jsonl``, ``document``),
  decided from the content, never from the file name, and which records a JSON value holds;
* :mod:`.framing`: the records of each layout, framed out of the chunks (a 1 GB delivery file is parsed
  record by record, so memory stays flat);
* this module: ``RecordReader`` puts them together for one file, and ``read_file``/``iter_file_records``
  are the ways to call it.

Problems come in two weights (:mod:`.problems`). A *record problem* (a bad JSON Lines line, an element of
``Records`` that is not an object) is collected and reading goes on. A *file problem* (corrupt or truncated
gzip, invalid JSON in a delivery file, no ``Records``) ends the file: it raises ``LogFileError`` after every
record before it has been yielded, so nothing read so far is lost.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .framing import delivery_records, document_records, json_lines_records
from .inflate import CHUNK_SIZE, DecompressedChunks, OpenStream
from .layout import BOM, detect_layout, unknown_reason
from .problems import LogFileError, RecordProblem

__all__ = ["FileReadResult", "RecordReader", "iter_file_records", "read_file"]


@dataclass
class FileReadResult:
    """Everything ``read_file`` got out of one file. ``error`` set means reading stopped there."""

    path: str
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)
    error: LogFileError | None = None
    layout: str | None = None
    compressed: bool = False
    bytes_uncompressed: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems

    @property
    def reasons(self) -> list[str]:
        found = [problem.reason for problem in self.problems]
        return [*found, self.error.reason] if self.error else found


class RecordReader:
    """Streams the records of one log file.

    Iterate it for the records; ``problems`` collects the records or lines skipped on the way; a file
    problem raises ``LogFileError`` from the iteration, after everything before it was yielded.
    """

    def __init__(self, open_stream: OpenStream, *, name: str, chunk_size: int = CHUNK_SIZE) -> None:
        self.name = name
        self._chunks = DecompressedChunks(open_stream, name=name, chunk_size=chunk_size)
        self.problems: list[RecordProblem] = []
        self.layout: str | None = None
        self.records_read = 0

    @classmethod
    def for_path(cls, path: str | os.PathLike[str], **kwargs: Any) -> RecordReader:
        path = Path(path)
        return cls(lambda: path.open("rb"), name=str(path), **kwargs)

    @property
    def compressed(self) -> bool:
        return self._chunks.compressed

    @property
    def bytes_uncompressed(self) -> int:
        return self._chunks.bytes_uncompressed

    @property
    def bytes_compressed(self) -> int:
        return self._chunks.bytes_compressed

    def __iter__(self) -> Iterator[dict[str, Any]]:
        chunks: Iterator[bytes] = iter(self._chunks)
        head = b""
        layout: str | None = None
        try:
            for chunk in chunks:
                head += chunk
                layout = detect_layout(head, complete=False)
                if layout is not None:
                    break
            else:
                layout = detect_layout(head, complete=True)
        except LogFileError as damage:
            # Damaged before the layout was clear: read what came before the damage, then report it.
            if not head.strip():
                raise
            layout = detect_layout(head, complete=True)
            chunks = _raising(damage)
        self.layout = layout
        if head.startswith(BOM):
            head = head[len(BOM) :]
        if layout == "empty":
            raise LogFileError(self.name, "empty file")
        if layout == "unknown":
            raise LogFileError(self.name, unknown_reason(head))
        rest = _prepend(head, chunks)
        if layout == "cloudtrail":
            parse = delivery_records(rest, name=self.name, report=self._problem)
        elif layout == "jsonl":
            parse = json_lines_records(rest, report=self._problem)
        else:
            parse = document_records(
                rest, name=self.name, report=self._problem, stream_failed=lambda: self._chunks.failed
            )
        try:
            for record in parse:
                self.records_read += 1
                yield record
        except LogFileError as exc:
            if self._chunks.compressed and not self._chunks.failed:
                self._raise_damage_behind(chunks, exc)
            raise

    def _raise_damage_behind(self, chunks: Iterator[bytes], found: LogFileError) -> None:
        # Corrupt deflate data often decodes into garbage before zlib notices, so the JSON breaks first.
        # The damaged archive is the cause worth reporting: read on to see whether the gzip stream is sound.
        try:
            for _ in chunks:
                pass
        except LogFileError as damage:
            raise LogFileError(
                self.name, f"{damage.reason}; the data before it was already unreadable ({found.reason})"
            ) from found

    def _problem(self, reason: str, line: int | None = None) -> None:
        self.problems.append(RecordProblem(self.name, reason, line))


def _raising(error: LogFileError) -> Iterator[bytes]:
    raise error
    yield b""  # a generator, so the error comes when the data before it has been used


def _prepend(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if head:
        yield head
    yield from rest


# --- convenience -------------------------------------------------------------------------------------------


def iter_file_records(
    path: str | os.PathLike[str], *, problems: list[RecordProblem] | None = None
) -> Iterator[dict[str, Any]]:
    """Yield every record of one log file.

    Skipped records/lines are appended to ``problems`` when a list is given; without one they are raised
    together as a ``LogFileError`` after the last good record, so nothing is skipped silently. A file
    problem raises ``LogFileError`` where it happens.
    """
    reader = RecordReader.for_path(path)
    yield from reader
    if problems is not None:
        problems.extend(reader.problems)
    elif reader.problems:
        first = reader.problems[0].reason
        more = f" (and {len(reader.problems) - 1} more)" if len(reader.problems) > 1 else ""
        raise LogFileError(reader.name, first + more)


def read_file(path: str | os.PathLike[str]) -> FileReadResult:
    """Read one whole log file into memory; never raises for bad data (see ``FileReadResult.error``)."""
    reader = RecordReader.for_path(path)
    result = FileReadResult(path=reader.name)
    try:
        for record in reader:
            result.records.append(record)
    except LogFileError as exc:
        result.error = exc
    result.problems = reader.problems
    result.layout = reader.layout
    result.compressed = reader.compressed
    result.bytes_uncompressed = reader.bytes_uncompressed
    return result
