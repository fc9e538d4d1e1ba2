"""Find the root records of a CloudTrail log file without parsing the rest of it.

Root records are one in 10^4 to 10^6, and parsing JSON costs several times more than decompressing it, so
``scan_file`` searches the decompressed bytes and only parses the records around a hit.

Why a file without a hit cannot hold a record we want (the correctness argument):

* A root record has ``userIdentity.type == "Root"``: a JSON string whose value is exactly ``Root``. Written
  without escapes, that string is the bytes ``"Root"`` whatever the spacing around the colon (CloudTrail
  writes ``"type":"Root"``, pretty-printers ``"type": "Root"``), so the bytes ``Root"`` are in the file.
* An ``sts:AssumeRoot`` call has ``eventName == "AssumeRoot"``: the bytes ``"AssumeRoot"``, which end in
  ``Root"`` too. One search for ``Root"`` therefore covers both (a regex over the ``"type"`` key would
  cost more and still need a second search for AssumeRoot).
* The only other way to write those letters in JSON is a ``\\u`` escape (``\\u0052oot``). No serialiser
  escapes ASCII letters (CloudTrail's does not; Go, Jackson, Gson, serde and Python escape only control,
  non-ASCII or HTML characters), so only a hand-made file could do it, and whoever can write the log files
  can also just delete the record: that threat is log-file integrity validation's, not this screen's. Still,
  ``escapes=True`` adds a search for escaped ``R``/``o``/``t`` and parses the whole file on a hit, for
  uploads from unknown tools; it costs about a third more time, so it is off for CloudTrail's own files.

Around each hit the enclosing record is decoded (``raw_decode`` from the nearest ``{`` that starts a
CloudTrail record and contains the hit; for JSON Lines, the hit's line), classified, and kept when it is a
root record or an ``AssumeRoot`` call. Whenever that is not clean (a record larger than the context kept,
invalid UTF-8 or JSON near a hit, a delivery file that does not end with ``]}``) the file is parsed in
full with the reader instead, which is slower but exact and reports the problem precisely. The screen never
trades a possible miss for speed.

``records_read`` on the fast path is the number of ``"eventVersion"`` keys (every CloudTrail record has
one), an estimate that ignores hand-made records without it; it is exact (``records_read_exact``) when
the file was parsed in full. Counting is a second pass over the bytes (about a quarter of zlib's time);
``count_records=False`` skips it and leaves ``records_read`` None on the fast path.

Problems in parts of a file that were not parsed are not seen, and cannot hide a root record (such a
part would contain a hit and be parsed).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .classify import Classification, classify
from .inflate import DecompressedChunks, OpenStream
from .layout import RECORD_KEYS, detect_layout, records_of
from .limits import FileLimits
from .problems import LogFileError, RecordProblem
from .reader import RecordReader

__all__ = [
    "BATCH_SIZE",
    "ScanResult",
    "ScreenStream",
    "ScreenedRecord",
    "scan_file",
    "scan_stream",
]

# The closing quote makes the search ~10% faster than for ``Root`` alone (fewer near-misses) and keeps
# words such as ListRoots out; both markers end their JSON string with it.
ROOT_MARKER = b'Root"'
RECORD_MARKER = b'"eventVersion"'
_ESCAPE_PREFIX = b"\\u00"
_ESCAPED_ROOT_LETTER = re.compile(rb"\\u00(?:52|6[fF]|74)")
# Bytes of the previous chunk searched again with the next one, so a marker cut by a chunk boundary is
# found. One less than the longest marker: no whole marker fits in it, so nothing is counted twice.
_SEAM = len(RECORD_MARKER) - 1
# Context decoded around a hit to find its record: a small window first (almost every record is < 4 KB),
# then a large one; a record that does not fit in the large one sends the file to a full parse (exact,
# only slower). CloudTrail caps requestParameters at 100 KB and additionalEventData at 28 KB, so its
# records fit; keeping more context would cost every file (see CHUNK_SIZE) to speed up a rare giant.
_WINDOWS = (16 << 10, 256 << 10)
_RETAIN = _WINDOWS[-1]
_WHITESPACE = " \t\r\n"
# Decompressed bytes searched at a time, and compressed bytes read at a time. Small on purpose: glibc
# serves blocks this size from its heap, while blocks of 256 KiB and more (and several retained 1 MiB
# chunks) go through mmap and munmap, and the page faults of that churn cost more than the two searches
# themselves (measured: 68,000 faults and 2.7x zlib's time on 187 MB with 1 MiB chunks and 2 MiB kept,
# none and 1.8x with these sizes; bench/ingest_benchmark.py). The per-chunk Python work is small.
CHUNK_SIZE = 128 << 10
READ_SIZE = 64 << 10
#: Records ``ScreenStream`` hands out at a time: what one transaction stores. A file of millions of root
#: records is then held a batch at a time, never whole (it took 8.5 GB for 3.4 million before).
BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ScreenedRecord:
    """A root record or an AssumeRoot call found in a file, with its classification."""

    record: dict[str, Any]
    classification: Classification


@dataclass
class ScanResult:
    """What ``scan_file`` found in one file."""

    path: str
    layout: str | None = None
    compressed: bool = False
    bytes_compressed: int = 0
    bytes_uncompressed: int = 0
    records_read: int | None = None
    records_read_exact: bool = False
    # Positions where the byte screen matched (false positives included).
    screen_hits: int = 0
    # Why the file was parsed in full instead of screened, if it was.
    full_parse_reason: str | None = None
    records: list[ScreenedRecord] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)
    error: LogFileError | None = None

    @property
    def root_records(self) -> list[ScreenedRecord]:
        return [found for found in self.records if found.classification.is_root]

    @property
    def assume_root_calls(self) -> list[ScreenedRecord]:
        return [found for found in self.records if found.classification.is_assume_root_call]

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems

    @property
    def reasons(self) -> list[str]:
        found = [problem.reason for problem in self.problems]
        return [*found, self.error.reason] if self.error else found


def scan_file(
    path: str | os.PathLike[str], *, escapes: bool = False, count_records: bool = True
) -> ScanResult:
    """Screen one log file (plain, gzip or zlib; delivery format or JSON Lines) for root records."""
    path = Path(path)
    return scan_stream(lambda: path.open("rb"), name=str(path), escapes=escapes, count_records=count_records)


def scan_stream(
    open_stream: OpenStream,
    *,
    name: str,
    escapes: bool = False,
    count_records: bool = True,
    limits: FileLimits | None = None,
) -> ScanResult:
    """``scan_file`` for any byte stream. ``open_stream`` is called again if a full parse is needed.

    Keeps every record found in memory: files of unknown size go through ``ScreenStream``."""
    limits = limits or FileLimits()
    try:
        fast = _FastScan(open_stream, name=name, escapes=escapes, count_records=count_records, limits=limits)
        return fast.run()
    except _NeedFullParse as need:
        return _full_scan(open_stream, name=name, reason=need.reason, limits=limits)


class ScreenStream:
    """``scan_stream`` in bounded batches, for files of any size.

    Iterate it for lists of at most ``batch_size`` records (root records and AssumeRoot calls, in file
    order); once the iteration ends, ``result`` holds everything else (counts, problems, the error that
    ended the file, which may be a cap of ``limits``) and no records. ``records_read`` is how many
    records were read so far, for progress while iterating.

    When the byte screen gives up half-way (``_NeedFullParse``), the file is parsed again in full and the
    records already handed out are not handed out twice: the full parse's first ones are checked against
    them (a digest of their ids, in order) and skipped. Should they differ, the full parse hands out
    everything again; storing is idempotent, so that costs time, never a record.
    """

    def __init__(
        self,
        open_stream: OpenStream,
        *,
        name: str,
        escapes: bool = False,
        count_records: bool = True,
        batch_size: int | None = None,
        limits: FileLimits | None = None,
    ) -> None:
        self.name = name
        self._open = open_stream
        self._escapes = escapes
        self._count_records = count_records
        self._batch_size = batch_size or BATCH_SIZE
        self._limits = limits or FileLimits()
        self._source: _FastScan | ScanResult | None = None
        self.result = ScanResult(path=name)

    @property
    def records_read(self) -> int:
        source = self._source
        if isinstance(source, _FastScan):
            return source.counted
        return (source.records_read or 0) if source is not None else 0

    def __iter__(self) -> Iterator[list[ScreenedRecord]]:
        fast = _FastScan(
            self._open,
            name=self.name,
            escapes=self._escapes,
            count_records=self._count_records,
            limits=self._limits,
        )
        self._source = fast
        handed = _Handed()
        try:
            for batch in fast.batches(self._batch_size):
                handed.add(batch)
                yield batch
        except _NeedFullParse as need:
            reason = need.reason
        else:
            self.result = fast.result
            return
        yield from self._full(reason, handed)

    def _full(self, reason: str, handed: _Handed) -> Iterator[list[ScreenedRecord]]:
        for skip in (handed, None):
            result = ScanResult(path=self.name, full_parse_reason=reason, records_read_exact=True)
            self._source = result
            seen = _Handed()
            batches = _full_batches(
                self._open, name=self.name, result=result, batch_size=self._batch_size, limits=self._limits
            )
            mismatch = False
            for batch in batches:
                if skip is not None and seen.count < skip.count:
                    # Records the screen handed out already: skip them if they are the same ones.
                    room = skip.count - seen.count
                    seen.add(batch[:room])
                    batch = batch[room:]
                    if seen.count == skip.count and seen.digest() != skip.digest():
                        mismatch = True
                        break
                if batch:
                    yield batch
            if not mismatch and (skip is None or seen.count >= skip.count):
                self.result = result
                return
            # The full parse did not find the same first records (or fewer of them): hand out all.
        raise AssertionError("unreachable: the second pass skips nothing")  # pragma: no cover


class _Handed:
    """Which records were handed out, in order: a count and a running digest of their ids."""

    def __init__(self) -> None:
        self.count = 0
        self._digest = hashlib.sha256()

    def add(self, batch: list[ScreenedRecord]) -> None:
        for found in batch:
            c = found.classification
            self._digest.update(f"{c.event_id}\0{c.account_id}\0".encode("utf-8", "replace"))
        self.count += len(batch)

    def digest(self) -> str:
        return self._digest.hexdigest()


def _keep(record: dict[str, Any], into: list[ScreenedRecord]) -> None:
    classification = classify(record)
    if classification.is_root or classification.is_assume_root_call:
        into.append(ScreenedRecord(record, classification))


def _full_scan(open_stream: OpenStream, *, name: str, reason: str, limits: FileLimits) -> ScanResult:
    result = ScanResult(path=name, full_parse_reason=reason, records_read_exact=True)
    for batch in _full_batches(open_stream, name=name, result=result, batch_size=None, limits=limits):
        result.records.extend(batch)
    return result


def _full_batches(
    open_stream: OpenStream, *, name: str, result: ScanResult, batch_size: int | None, limits: FileLimits
) -> Iterator[list[ScreenedRecord]]:
    """Parse the whole file with the reader, handing out what it keeps ``batch_size`` at a time (None:
    once, at the end); ``result`` gets everything else (counts, problems, the error that ended it)."""
    reader = RecordReader(open_stream, name=name)
    kept: list[ScreenedRecord] = []
    try:
        for record in reader:
            limits.check_records(name, reader.records_read)
            limits.check_bytes(name, reader.bytes_uncompressed)
            identity = record.get("userIdentity")
            # Cheap pre-check; classify() remains the judge.
            if record.get("eventName") == "AssumeRoot" or (
                isinstance(identity, dict) and identity.get("type") == "Root"
            ):
                _keep(record, kept)
                if batch_size is not None and len(kept) >= batch_size:
                    result.records_read = reader.records_read
                    yield kept
                    kept = []
    except LogFileError as exc:
        result.error = exc
    result.records_read = reader.records_read
    result.problems = reader.problems
    result.layout = reader.layout
    result.compressed = reader.compressed
    result.bytes_uncompressed = reader.bytes_uncompressed
    result.bytes_compressed = reader.bytes_compressed
    if kept:
        yield kept


class _NeedFullParse(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _FastScan:
    """The byte screen over one stream; raises ``_NeedFullParse`` when it cannot be sure."""

    def __init__(
        self,
        open_stream: OpenStream,
        *,
        name: str,
        escapes: bool,
        count_records: bool,
        limits: FileLimits | None = None,
    ) -> None:
        self.name = name
        self.escapes = escapes
        self.count_records = count_records
        self.limits = limits or FileLimits()
        self.chunks = DecompressedChunks(open_stream, name=name, chunk_size=CHUNK_SIZE, read_size=READ_SIZE)
        self.result = ScanResult(path=name, records_read=0 if count_records else None)
        self.counted = 0
        self.layout: str | None = None
        self.total = 0  # decompressed bytes fed so far (after any BOM)
        self.tail = b""
        self.last_hit = -1
        self.pending: list[int] = []
        self.retained: list[tuple[int, bytes]] = []
        self.done_until = -1  # end of the last record extracted: hits before it are inside it
        self.ending = b""  # last bytes of the stream, to check a delivery file is complete

    def run(self) -> ScanResult:
        records = [found for batch in self.batches(None) for found in batch]
        self.result.records = records
        return self.result

    def batches(self, batch_size: int | None) -> Iterator[list[ScreenedRecord]]:
        """The records kept, ``batch_size`` at a time (None: once, at the end); ``result`` is complete
        (without the records handed out) when the iteration ends."""
        chunks = iter(self.chunks)
        fed = False
        try:
            head = b""
            for chunk in chunks:
                head += chunk
                self.layout = detect_layout(head, complete=False)
                if self.layout is not None:
                    break
            else:
                self.layout = detect_layout(head, complete=True)
            if self.layout not in ("cloudtrail", "jsonl"):
                # Empty, unknown or whole-document files are small or broken: the reader says which.
                raise _NeedFullParse(f"layout {self.layout}")
            self.feed(head.removeprefix(b"\xef\xbb\xbf"))
            fed = True
            yield from self.take(batch_size)
            for chunk in chunks:
                self.feed(chunk)
                yield from self.take(batch_size)
        except LogFileError as exc:
            if not fed:
                # Broken before the screen saw any data: the reader keeps whatever came before the damage.
                raise _NeedFullParse(f"unreadable before the layout was known: {exc.reason}") from exc
            self.result.error = exc
        self.resolve(final=True)
        if self.result.error is None and self.layout == "cloudtrail":
            self.check_delivery_end()
        result = self.result
        if self.count_records:
            result.records_read = self.counted
        result.layout = self.layout
        result.compressed = self.chunks.compressed
        result.bytes_compressed = self.chunks.bytes_compressed
        result.bytes_uncompressed = self.chunks.bytes_uncompressed
        yield from self.take(batch_size)
        yield from self.take(None)  # the rest, fewer than a batch

    def take(self, batch_size: int | None) -> Iterator[list[ScreenedRecord]]:
        """Hand out the records kept so far in batches of ``batch_size`` (None: all, in one batch)."""
        if batch_size is None:
            if self.result.records:
                records, self.result.records = self.result.records, []
                yield records
            return
        while len(self.result.records) >= batch_size:
            batch = self.result.records[:batch_size]
            self.result.records = self.result.records[batch_size:]
            yield batch

    # Screening (the hot path: two searches per chunk, both in C; everything else is per hit or per chunk).

    def feed(self, chunk: bytes) -> None:
        start = self.total
        self.total += len(chunk)
        self.limits.check_bytes(self.name, self.chunks.bytes_uncompressed)
        # The seam (end of the last chunk + start of this one) is searched on its own rather than
        # copying every chunk behind the previous tail.
        seam = self.tail + chunk[:_SEAM]
        if self.count_records:
            self.counted += seam.count(RECORD_MARKER) + chunk.count(RECORD_MARKER)
            self.limits.check_records(self.name, self.counted)
        self.screen(seam, start - len(self.tail))
        self.screen(chunk, start)
        if self.escapes and (
            _ESCAPED_ROOT_LETTER.search(seam) is not None
            or (chunk.find(_ESCAPE_PREFIX) >= 0 and _ESCAPED_ROOT_LETTER.search(chunk) is not None)
        ):
            raise _NeedFullParse("escaped letters of 'Root' in the data")
        self.tail = (self.tail + chunk[-_SEAM:])[-_SEAM:]
        self.ending = (self.ending + chunk[-64:])[-64:]
        self.retained.append((start, chunk))
        self.resolve(final=False)
        self.trim()

    def screen(self, data: bytes, data_start: int) -> None:
        hit = data.find(ROOT_MARKER)
        while hit >= 0:
            position = data_start + hit
            if position > self.last_hit:  # the seam and the chunk overlap; count each hit once
                self.last_hit = position
                self.result.screen_hits += 1
                if _plausible(data, hit):
                    self.pending.append(position)
            hit = data.find(ROOT_MARKER, hit + 1)

    def trim(self) -> None:
        # Keep enough bytes behind the newest byte (and behind every pending hit) to decode a record.
        keep_from = min([self.total - _RETAIN, *(hit - _RETAIN for hit in self.pending)])
        while len(self.retained) > 1 and self.retained[1][0] <= keep_from:
            self.retained.pop(0)

    # Record extraction around hits.

    def resolve(self, *, final: bool) -> None:
        ready = [hit for hit in self.pending if final or hit + _RETAIN <= self.total]
        if not ready:
            return
        self.pending = self.pending[len(ready) :]  # hits are appended in order, so ready ones lead
        for hit in ready:
            if hit < self.done_until:
                continue  # inside the record extracted for an earlier hit
            for window in _WINDOWS:
                low = max(hit - window, self.retained[0][0])
                high = min(hit + window, self.total)
                # Whether the window reaches the true start/end of the stream, not just of what is kept.
                bounds = (low == 0, high == self.total)
                found = self.extract(self.span(low, high), low, hit - low, *bounds)
                if found is not None:
                    records, self.done_until = found
                    for record in records:
                        _keep(record, self.result.records)
                    break
            else:
                raise _NeedFullParse(f"could not isolate the record around byte {hit}")

    def span(self, low: int, high: int) -> bytes:
        """Stream bytes [low, high) from the retained chunks (copying only that much)."""
        parts = []
        for start, chunk in self.retained:
            if start + len(chunk) > low and start < high:
                parts.append(chunk[max(0, low - start) : high - start])
        return b"".join(parts)

    def extract(
        self, buf: bytes, base: int, at: int, starts_stream: bool, ends_stream: bool
    ) -> tuple[list[dict[str, Any]], int] | None:
        """The record(s) holding the hit at ``buf[at]`` and the stream offset where they end.

        None means the window was too small to tell; ``base`` is the stream offset of ``buf[0]``.
        """
        if self.layout == "jsonl":
            return self.extract_line(buf, base, at, starts_stream, ends_stream)
        return self.extract_record(buf, base, at, starts_stream)

    def extract_line(
        self, buf: bytes, base: int, at: int, starts_stream: bool, ends_stream: bool
    ) -> tuple[list[dict[str, Any]], int] | None:
        newline = buf.rfind(b"\n", 0, at)
        if newline < 0 and not starts_stream:
            return None
        end = buf.find(b"\n", at)
        if end < 0:
            if not ends_stream:
                return None
            end = len(buf)
        try:
            value = json.loads(buf[newline + 1 : end])
        except (ValueError, RecursionError) as exc:
            raise _NeedFullParse("invalid JSON line near a hit") from exc
        records, skipped = records_of(value)
        if skipped:
            raise _NeedFullParse("unexpected line shape near a hit")
        return records, base + end

    def extract_record(
        self, buf: bytes, base: int, at: int, starts_stream: bool
    ) -> tuple[list[dict[str, Any]], int] | None:
        low = 0
        while low < at and 0x80 <= buf[low] < 0xC0:
            low += 1  # do not start inside a multi-byte character
        # Decode strictly; the hit is an ASCII byte, so it sits on a character boundary.
        try:
            before = buf[low:at].decode("utf-8")
            after = codecs.getincrementaldecoder("utf-8")().decode(buf[at:], final=False)
        except UnicodeDecodeError as exc:
            raise _NeedFullParse("invalid UTF-8 near a hit") from exc
        text = before + after
        hit = len(before)
        decoder = json.JSONDecoder()
        candidate = hit
        while (candidate := text.rfind("{", 0, candidate)) >= 0:
            try:
                value, end = decoder.raw_decode(text, candidate)
            except json.JSONDecodeError:
                continue  # a "{" inside a string, or an object cut by the window
            except (ValueError, RecursionError) as exc:
                raise _NeedFullParse("JSON near a hit that the reader must judge") from exc
            if end <= hit or not isinstance(value, dict) or RECORD_KEYS.isdisjoint(value):
                continue  # an earlier sibling, or an object nested in the record (userIdentity, ...)
            previous = _previous_char(text, candidate)
            if previous is None and not (starts_stream and low == 0):
                return None  # cannot see what encloses it: widen
            if previous not in (None, "[", ","):
                continue  # a record-shaped object nested as a value inside something else
            return [value], base + at + len(text[hit:end].encode("utf-8"))
        return None

    def check_delivery_end(self) -> None:
        # The screen does not parse the whole file, but a truncated delivery file (the common damage)
        # shows at its end; let the reader find and report exactly where.
        ending = self.ending.rstrip(b" \t\r\n")
        if not ending.endswith(b"}") or not ending[:-1].rstrip(b" \t\r\n").endswith(b"]"):
            raise _NeedFullParse("the file does not end with ']}'")


def _plausible(window: bytes, hit: int) -> bool:
    """Whether a ``Root"`` hit can be one of the markers: ``"Root"`` or ``"AssumeRoot"``.

    When the bytes before it are in the previous chunk the hit is kept: this only saves work on values
    such as ``"OrgRoot"``, it never decides what is root.
    """
    if hit < 6:
        return True
    return window[hit - 1] == 0x22 or window[hit - 6 : hit] == b"Assume"  # 0x22 is '"'


def _previous_char(text: str, index: int) -> str | None:
    index -= 1
    while index >= 0 and text[index] in _WHITESPACE:
        index -= 1
    return text[index] if index >= 0 else None
