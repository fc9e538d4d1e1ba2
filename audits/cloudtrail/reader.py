"""Streaming readers for CloudTrail log files: every record, with problems reported and good data kept.

Layouts (decided from the content, never from the file name):

* ``cloudtrail``: CloudTrail's delivery format ``{"Records": [...]}``, compact or pretty-printed. Records
  are parsed one at a time from a rolling buffer, so memory stays flat for a 1 GB file.
* ``jsonl``: JSON Lines, one record per line. A line holding an EventBridge event (``detail-type``/``source``
  plus ``detail``) yields its ``detail``; a line holding ``{"Records": [...]}`` yields each record.
* ``document``: any other single JSON document (a bare record, an EventBridge event, an array of records,
  the output of ``aws cloudtrail lookup-events``). Read whole, so capped at ``DOCUMENT_LIMIT``.

Any of them may be gzip (or zlib) compressed, detected by magic bytes.

Problems come in two weights. A *record problem* (a bad JSON Lines line, an element of ``Records`` that is
not an object) is collected and reading goes on. A *file problem* (corrupt or truncated gzip, invalid JSON
in a delivery file, no ``Records``) ends the file: it raises ``LogFileError`` after every record before it
has been yielded, so nothing read so far is lost.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import zlib  # zlib-ng has the same API; type-check against the standard library's stubs
else:
    try:
        # zlib-ng inflates gzip about 1.5x faster than zlib, with the same API: on a trail where root
        # records are rare, inflating is most of the cost of ingestion (see bench/ingest_benchmark.py).
        from zlib_ng import zlib_ng as zlib
    except ImportError:  # the pinned requirement is normally installed
        import zlib

__all__ = [
    "CHUNK_SIZE",
    "DOCUMENT_LIMIT",
    "DecompressedChunks",
    "FileReadResult",
    "LogFileError",
    "RecordProblem",
    "RecordReader",
    "detect_layout",
    "iter_file_records",
    "read_file",
    "records_of",
]

# Decompressed bytes handed out at a time; big enough to amortise Python's per-chunk work, small enough to
# stay in the CPU cache while the screen searches it.
CHUNK_SIZE = 1 << 20
# Compressed bytes read at a time.
READ_SIZE = 256 << 10
# A ``document`` (not streamable) layout is read whole; beyond this it is refused rather than risking memory.
DOCUMENT_LIMIT = 64 << 20
# One record (delivery layout) or one line (JSON Lines) larger than this is refused. CloudTrail caps
# requestParameters at 100 KB and additionalEventData at 28 KB, so real records are far smaller.
RECORD_LIMIT = 16 << 20

GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_JSON_WS = b" \t\r\n"
_DELIVERY_PREFIX = re.compile(rb'\{\s*"Records"\s*:\s*\[')
_DELIVERY_PREFIX_TEXT = re.compile(r'\s*\{\s*"Records"\s*:\s*\[')
_NON_WS_TEXT = re.compile(r"[^ \t\r\n]")
# Keys that only a CloudTrail record (not an envelope or a nested object such as userIdentity) carries.
RECORD_KEYS = frozenset(
    {"eventVersion", "eventName", "eventSource", "eventTime", "eventID", "eventType", "userIdentity"}
)
_OTHER_FORMATS = (
    (b"BZh", "a bzip2 file"),
    (b"\xfd7zXZ\x00", "an xz file"),
    (b"\x28\xb5\x2f\xfd", "a zstd file"),
    (b"PK\x03\x04", "a zip archive"),
)

OpenStream = Callable[[], IO[bytes]]


class LogFileError(Exception):
    """A log file (or the rest of it) could not be read. ``reason`` is meant for people."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """One record or line that was skipped while the rest of its file was read."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


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


# --- bytes --------------------------------------------------------------------------------------------


class DecompressedChunks:
    """The decompressed bytes of one file, in chunks of at most ``chunk_size``.

    gzip (including several concatenated members) and zlib streams are recognised by their first bytes;
    anything else is passed through. ``compressed``, ``bytes_compressed`` and ``bytes_uncompressed`` are
    filled in as the chunks are consumed.
    """

    def __init__(
        self,
        open_stream: OpenStream,
        *,
        name: str,
        chunk_size: int = CHUNK_SIZE,
        read_size: int = READ_SIZE,
    ) -> None:
        self.name = name
        self._open = open_stream
        self._chunk_size = chunk_size
        self._read_size = read_size
        self.compressed = False
        self.bytes_compressed = 0
        self.bytes_uncompressed = 0
        self.failed = False  # the stream itself (not its content) was unreadable

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks()
        except LogFileError:
            self.failed = True
            raise

    def _chunks(self) -> Iterator[bytes]:
        try:
            stream = self._open()
        except OSError as exc:
            raise LogFileError(self.name, f"cannot read: {exc.strerror or exc}") from exc
        with stream:
            head = b""
            while len(head) < 2:
                more = self._read(stream, self._chunk_size)
                if not more:
                    break
                head += more
            if head[:2] == GZIP_MAGIC or _is_zlib_header(head):
                self.compressed = True
                yield from self._inflate(stream, head)
                return
            while head:
                self.bytes_uncompressed += len(head)
                yield head
                head = self._read(stream, self._chunk_size)

    def _read(self, stream: IO[bytes], size: int) -> bytes:
        try:
            data = stream.read(size)
        except OSError as exc:
            raise LogFileError(self.name, f"cannot read: {exc.strerror or exc}") from exc
        self.bytes_compressed += len(data)
        return data

    def _inflate(self, stream: IO[bytes], data: bytes) -> Iterator[bytes]:
        # wbits=47 (32 + 15): zlib works out gzip or zlib framing from the header itself.
        inflater = zlib.decompressobj(47)
        while True:
            if not data:
                data = self._read(stream, self._read_size)
                if not data:
                    break
            while data:
                before = inflater.copy()
                try:
                    out = inflater.decompress(data, self._chunk_size)
                except zlib.error as exc:
                    # zlib drops the output of the call that fails; win back what precedes the damage
                    # (for a CRC error, all the data) so the records in it are not lost.
                    yield from self._salvage(before, data)
                    raise LogFileError(self.name, self._zlib_reason(exc)) from exc
                data = inflater.unconsumed_tail
                if out:
                    self.bytes_uncompressed += len(out)
                    yield out
                if inflater.eof:
                    data = inflater.unused_data + data
                    if not data:
                        data = self._read(stream, self._read_size)
                    if not data:
                        return
                    if data[:2] == GZIP_MAGIC:
                        # gzip allows several members one after another (``cat a.gz b.gz``).
                        inflater = zlib.decompressobj(47)
                        continue
                    self._expect_only_padding(stream, data)
                    return
        if not inflater.eof:
            raise LogFileError(
                self.name,
                "truncated gzip: the file ends before the compressed data does "
                f"(after {self.bytes_uncompressed} bytes of data)",
            )

    def _salvage(self, inflater: Any, data: bytes) -> Iterator[bytes]:
        size = 1 << 16
        while data and size:
            attempt = inflater.copy()
            try:
                out = attempt.decompress(data, size)
            except zlib.error:
                size //= 16  # closer to the damage: ask for less at a time
                continue
            if not out:
                return
            inflater, data = attempt, attempt.unconsumed_tail
            self.bytes_uncompressed += len(out)
            yield out

    def _expect_only_padding(self, stream: IO[bytes], data: bytes) -> None:
        # Some tools pad compressed files with zeros (gzip itself tolerates that); anything else is damage.
        while data:
            if data.strip(b"\0"):
                raise LogFileError(
                    self.name, "corrupt gzip: unexpected data after the end of the gzip stream"
                )
            data = self._read(stream, self._read_size)

    def _zlib_reason(self, exc: zlib.error) -> str:
        detail = str(exc).split(":", 1)[-1].strip()
        where = f"after {self.bytes_uncompressed} bytes of data"
        if "incorrect data check" in detail:
            return f"corrupt gzip: CRC check failed ({where})"
        if "incorrect length check" in detail:
            return f"corrupt gzip: length check failed ({where})"
        if "header" in detail or "unknown compression method" in detail:
            return f"not gzip: {detail}"
        return f"corrupt gzip: {detail} ({where})"


def _is_zlib_header(head: bytes) -> bool:
    # A JSON text cannot start with 0x78 ('x'), so a valid zlib header here is unambiguous.
    return len(head) >= 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0


# --- layout -----------------------------------------------------------------------------------------------


def detect_layout(head: bytes, *, complete: bool) -> str | None:
    """``cloudtrail``, ``jsonl``, ``document``, ``empty`` or ``unknown`` from the first decompressed bytes.

    Returns None while ``head`` is too short to tell and more data may follow (``complete`` false).
    """
    start = len(_BOM) if head.startswith(_BOM) else 0
    while start < len(head) and head[start] in _JSON_WS:
        start += 1
    if start >= len(head):
        return "empty" if complete else None
    first = head[start]
    if first == ord("["):
        return "document"
    if first != ord("{"):
        return "unknown"
    if _DELIVERY_PREFIX.match(head, start):
        return "cloudtrail"
    if not complete and len(head) - start < 4096:
        return None  # the "Records" key may still be coming after a long run of whitespace
    newline = head.find(b"\n", start)
    if newline < 0:
        if not complete and len(head) < RECORD_LIMIT:
            return None
        newline = len(head)
    if not head[newline:].strip():
        if not complete:
            return None
        return "document"  # a single line is a single document, not a one-line JSON Lines file
    line = head[start:newline].rstrip()
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        # The first line of a pretty-printed document is an unfinished value ("{", '"key": {', ...);
        # anything else is a JSON Lines file whose first line is damaged.
        return "document" if line.endswith((b"{", b"[", b",", b":")) else "jsonl"
    return "jsonl"


def _unknown_reason(head: bytes) -> str:
    stripped = head.lstrip(_BOM).lstrip(_JSON_WS)
    for magic, what in _OTHER_FORMATS:
        if stripped.startswith(magic):
            return f"not JSON: looks like {what} (only gzip is supported)"
    return f"not JSON: starts with {stripped[:16]!r}"


def records_of(value: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The CloudTrail records held by one parsed JSON value, and the reasons for any parts skipped.

    Understands a record, ``{"Records": [...]}``, an EventBridge event (its ``detail``), a list of those,
    and ``lookup-events`` output (``{"Events": [{"CloudTrailEvent": "<json>"}]}``).
    """
    records: list[dict[str, Any]] = []
    skipped: list[str] = []
    _collect(value, records, skipped, "")
    return records, skipped


def _collect(value: Any, records: list[dict[str, Any]], skipped: list[str], where: str) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _collect(item, records, skipped, f"{where}[{index}]")
        return
    if not isinstance(value, dict):
        skipped.append(f"{where or 'the value'} is not a JSON object")
        return
    if "Records" in value:
        if isinstance(value["Records"], list):
            _collect(value["Records"], records, skipped, f"{where}Records")
        else:
            skipped.append(f"{where}Records is not an array")
        return
    if "detail" in value and ("detail-type" in value or "source" in value):
        if isinstance(value["detail"], dict):
            records.append(value["detail"])
        else:
            skipped.append(f"{where or 'EventBridge event'} has no detail object")
        return
    if isinstance(value.get("Events"), list):
        for index, item in enumerate(value["Events"]):
            raw = item.get("CloudTrailEvent") if isinstance(item, dict) else None
            try:
                parsed = json.loads(raw) if isinstance(raw, str) else None
            except (ValueError, RecursionError) as exc:
                skipped.append(f"{where}Events[{index}].CloudTrailEvent is invalid JSON: {_failure(exc)}")
                continue
            if isinstance(parsed, dict):
                records.append(parsed)
            else:
                skipped.append(f"{where}Events[{index}] has no CloudTrailEvent object")
        return
    if RECORD_KEYS.isdisjoint(value):
        skipped.append(f"{where} is not a CloudTrail record" if where else "no Records array")
        return
    records.append(value)


# --- records ---------------------------------------------------------------------------------------------


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
        if head.startswith(_BOM):
            head = head[len(_BOM) :]
        if layout == "empty":
            raise LogFileError(self.name, "empty file")
        if layout == "unknown":
            raise LogFileError(self.name, _unknown_reason(head))
        rest = _prepend(head, chunks)
        if layout == "cloudtrail":
            parse = self._delivery(rest)
        elif layout == "jsonl":
            parse = self._json_lines(rest)
        else:
            parse = self._document(rest)
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

    # Delivery files: {"Records": [ ... ]}, parsed record by record.

    def _delivery(self, chunks: Iterator[bytes]) -> Iterator[dict[str, Any]]:
        text = _TextBuffer(chunks, name=self.name)
        text.fill_until(lambda: _DELIVERY_PREFIX_TEXT.match(text.buf) is not None)
        match = _DELIVERY_PREFIX_TEXT.match(text.buf)
        if match is None:  # detect_layout saw the prefix, so only a decoding oddity gets here
            raise LogFileError(self.name, "no Records array")
        text.pos = match.end()
        decoder = json.JSONDecoder()
        index = 0
        expect_value = True  # right after "[" or ","
        while True:
            char = text.next_char()
            if char is None:
                raise LogFileError(
                    self.name,
                    f"invalid JSON: the file ends inside the Records array after {index} records"
                    " (truncated?)",
                )
            if char == "]" and (index == 0 or not expect_value):
                text.pos += 1
                break
            if not expect_value:
                if char != ",":
                    raise text.error(f"expected ',' or ']' after record {index}")
                text.pos += 1
                expect_value = True
                continue
            try:
                value, end = decoder.raw_decode(text.buf, text.pos)
            except json.JSONDecodeError as exc:
                if text.might_be_incomplete(exc) and text.more():
                    continue
                if text.eof and (
                    exc.msg.startswith("Unterminated string") or not text.buf[exc.pos :].strip()
                ):
                    raise LogFileError(
                        self.name, f"invalid JSON: the file ends inside record {index + 1} (truncated?)"
                    ) from exc
                raise text.error(f"{exc.msg} (in record {index + 1})", at=exc.pos) from exc
            except (ValueError, RecursionError) as exc:
                raise text.error(f"{_failure(exc)} (in record {index + 1})") from exc
            index += 1
            text.pos = end
            expect_value = False
            if isinstance(value, dict):
                yield value
            else:
                self._problem(f"Records[{index - 1}] is not a JSON object")
        self._expect_end(text)

    def _expect_end(self, text: _TextBuffer) -> None:
        char = text.next_char()
        if char == ",":
            return  # more top-level keys after Records: not ours to read
        if char != "}":
            raise text.error("expected '}' after the Records array")
        text.pos += 1
        if text.next_char() is not None:
            raise text.error("unexpected data after the end of the JSON document")

    # JSON Lines.

    def _json_lines(self, chunks: Iterator[bytes]) -> Iterator[dict[str, Any]]:
        carry = b""
        line_no = 0
        skipping = False  # inside an over-long line, dropping bytes until its newline
        for chunk in chunks:
            data = carry + chunk if carry else chunk
            start = 0
            while (newline := data.find(b"\n", start)) >= 0:
                line_no += 1
                if skipping:
                    skipping = False
                else:
                    yield from self._line(data[start:newline], line_no)
                start = newline + 1
            carry = data[start:]
            if len(carry) > RECORD_LIMIT:
                if not skipping:
                    self._problem(
                        f"line {line_no + 1} is longer than {RECORD_LIMIT >> 20} MiB; skipped", line_no + 1
                    )
                skipping, carry = True, b""
        if carry and not skipping:
            yield from self._line(carry, line_no + 1)

    def _line(self, line: bytes, line_no: int) -> Iterator[dict[str, Any]]:
        line = line.strip()
        if not line:
            return
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            self._problem(f"invalid JSON at line {line_no} column {exc.colno}: {exc.msg}", line_no)
            return
        except UnicodeDecodeError:
            self._problem(f"invalid UTF-8 at line {line_no}", line_no)
            return
        except (ValueError, RecursionError) as exc:
            self._problem(f"invalid JSON at line {line_no}: {_failure(exc)}", line_no)
            return
        records, skipped = records_of(value)
        for reason in skipped:
            self._problem(f"line {line_no}: {reason}", line_no)
        yield from records

    # Anything else: one JSON document, read whole.

    def _document(self, chunks: Iterator[bytes]) -> Iterator[dict[str, Any]]:
        parts: list[bytes] = []
        size = 0
        damage: LogFileError | None = None
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > DOCUMENT_LIMIT:
                    raise LogFileError(
                        self.name,
                        f"a JSON document of this layout is read whole and this one is over "
                        f"{DOCUMENT_LIMIT >> 20} MiB; use CloudTrail's delivery layout or JSON Lines",
                    )
                parts.append(chunk)
        except LogFileError as exc:
            if not self._chunks.failed:
                raise
            damage = exc  # the stream broke; the document may still be whole (a lost gzip trailer)
        if damage is not None:
            yield from self._whole_document(b"".join(parts), damage)
            raise damage
        yield from self._whole_document(b"".join(parts), None)

    def _whole_document(self, data: bytes, damage: LogFileError | None) -> Iterator[dict[str, Any]]:
        try:
            value = json.loads(data)
        except (ValueError, RecursionError) as exc:
            if damage is not None:
                raise damage from None  # the broken stream, not the JSON it cut short, is the cause
            if isinstance(exc, json.JSONDecodeError):
                reason = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            elif isinstance(exc, UnicodeDecodeError):
                reason = f"invalid UTF-8 at byte {exc.start}"
            else:
                reason = f"invalid JSON: {_failure(exc)}"
            raise LogFileError(self.name, reason) from exc
        records, skipped = records_of(value)
        if not records and skipped and isinstance(value, dict):
            raise LogFileError(self.name, skipped[0])
        for reason in skipped:
            self._problem(reason)
        yield from records


def _failure(exc: ValueError | RecursionError) -> str:
    # json raises RecursionError on deep nesting and ValueError on over-long integers: hostile input that
    # must end as a reason, not as a crashed worker.
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def _raising(error: LogFileError) -> Iterator[bytes]:
    raise error
    yield b""  # a generator, so the error comes when the data before it has been used


def _prepend(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if head:
        yield head
    yield from rest


class _TextBuffer:
    """A rolling window of decoded text over a byte stream, for parsing one record at a time."""

    def __init__(self, chunks: Iterator[bytes], *, name: str) -> None:
        self._chunks = chunks
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._name = name
        self._bytes_seen = 0
        self._lines_dropped = 0
        self.buf = ""
        self.pos = 0
        self.eof = False

    def more(self) -> bool:
        """Append the next chunk (dropping what was parsed). False at the end of the stream."""
        if self.eof:
            return False
        chunk = next(self._chunks, None)
        try:
            if chunk is None:
                # Positions into buf stay valid at the end: the caller may still report one.
                self.eof = True
                self.buf += self._decoder.decode(b"", final=True)
                return False
            text = self._decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise LogFileError(self._name, f"invalid UTF-8 at byte {self._bytes_seen + exc.start}") from exc
        self._bytes_seen += len(chunk)
        if self.pos:
            # Keep the memory flat: what is before pos has been parsed already.
            self._lines_dropped += self.buf.count("\n", 0, self.pos)
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += text
        return True

    def fill_until(self, ready: Callable[[], bool]) -> None:
        while not ready() and self.more():
            pass

    def next_char(self) -> str | None:
        """The next non-whitespace character, reading on as needed; None at the end of the stream."""
        while True:
            found = _NON_WS_TEXT.search(self.buf, self.pos)
            if found is not None:
                self.pos = found.start()
                return self.buf[self.pos]
            self.pos = len(self.buf)
            if not self.more():
                return None

    def might_be_incomplete(self, exc: json.JSONDecodeError) -> bool:
        # A value cut by the chunk boundary fails at (or just before) the end of the buffer, or as an
        # unterminated string; re-parsing with more text settles it either way.
        if len(self.buf) - self.pos > RECORD_LIMIT:
            return False
        return exc.pos >= len(self.buf) - 8 or exc.msg.startswith("Unterminated string")

    def error(self, message: str, *, at: int | None = None) -> LogFileError:
        at = self.pos if at is None else at
        line = self._lines_dropped + self.buf.count("\n", 0, at) + 1
        column = at - self.buf.rfind("\n", 0, at)
        return LogFileError(self._name, f"invalid JSON at line {line} column {column}: {message}")


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
