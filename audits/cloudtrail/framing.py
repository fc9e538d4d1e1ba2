"""The records of a log file whose layout is known, framed out of its decompressed chunks.

* ``delivery_records``: ``{"Records": [...]}`` parsed record by record from a rolling text buffer, so
  memory stays flat for a 1 GB file.
* ``json_lines_records``: one JSON value per line; a bad line is reported and the others are kept.
* ``document_records``: any other single JSON document, read whole, so capped at ``DOCUMENT_LIMIT``.

Record problems go to the ``report`` callback (reason, line number or None); file problems raise
``LogFileError`` after every record before them has been yielded.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from .layout import RECORD_LIMIT, json_failure, records_of
from .problems import LogFileError

__all__ = ["DOCUMENT_LIMIT", "Report", "delivery_records", "document_records", "json_lines_records"]

DOCUMENT_LIMIT = 64 << 20

_DELIVERY_PREFIX_TEXT = re.compile(r'\s*\{\s*"Records"\s*:\s*\[')
_NON_WS_TEXT = re.compile(r"[^ \t\r\n]")

#: Where a framing function reports a skipped record or line: (reason, line number or None).
Report = Callable[[str, int | None], None]


def delivery_records(chunks: Iterator[bytes], *, name: str, report: Report) -> Iterator[dict[str, Any]]:
    """The records of a delivery file ``{"Records": [...]}``, parsed one at a time."""
    text = _TextBuffer(chunks, name=name)
    text.fill_until(lambda: _DELIVERY_PREFIX_TEXT.match(text.buf) is not None)
    match = _DELIVERY_PREFIX_TEXT.match(text.buf)
    if match is None:  # detect_layout saw the prefix, so only a decoding oddity gets here
        raise LogFileError(name, "no Records array")
    text.pos = match.end()
    decoder = json.JSONDecoder()
    index = 0
    expect_value = True  # right after "[" or ","
    while True:
        char = text.next_char()
        if char is None:
            raise LogFileError(
                name,
                f"invalid JSON: the file ends inside the Records array after {index} records (truncated?)",
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
            if text.eof and (exc.msg.startswith("Unterminated string") or not text.buf[exc.pos :].strip()):
                raise LogFileError(
                    name, f"invalid JSON: the file ends inside record {index + 1} (truncated?)"
                ) from exc
            raise text.error(f"{exc.msg} (in record {index + 1})", at=exc.pos) from exc
        except (ValueError, RecursionError) as exc:
            raise text.error(f"{json_failure(exc)} (in record {index + 1})") from exc
        index += 1
        text.pos = end
        expect_value = False
        if isinstance(value, dict):
            yield value
        else:
            report(f"Records[{index - 1}] is not a JSON object", None)
    _expect_end(text)


def _expect_end(text: _TextBuffer) -> None:
    char = text.next_char()
    if char == ",":
        return  # more top-level keys after Records: not ours to read
    if char != "}":
        raise text.error("expected '}' after the Records array")
    text.pos += 1
    if text.next_char() is not None:
        raise text.error("unexpected data after the end of the JSON document")


def json_lines_records(chunks: Iterator[bytes], *, report: Report) -> Iterator[dict[str, Any]]:
    """The records of a JSON Lines file; a line that is not JSON (or holds no record) is reported."""
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
                yield from _line(data[start:newline], line_no, report)
            start = newline + 1
        carry = data[start:]
        if len(carry) > RECORD_LIMIT:
            if not skipping:
                report(f"line {line_no + 1} is longer than {RECORD_LIMIT >> 20} MiB; skipped", line_no + 1)
            skipping, carry = True, b""
    if carry and not skipping:
        yield from _line(carry, line_no + 1, report)


def _line(line: bytes, line_no: int, report: Report) -> Iterator[dict[str, Any]]:
    line = line.strip()
    if not line:
        return
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        report(f"invalid JSON at line {line_no} column {exc.colno}: {exc.msg}", line_no)
        return
    except UnicodeDecodeError:
        report(f"invalid UTF-8 at line {line_no}", line_no)
        return
    except (ValueError, RecursionError) as exc:
        report(f"invalid JSON at line {line_no}: {json_failure(exc)}", line_no)
        return
    records, skipped = records_of(value)
    for reason in skipped:
        report(f"line {line_no}: {reason}", line_no)
    yield from records


def document_records(
    chunks: Iterator[bytes], *, name: str, report: Report, stream_failed: Callable[[], bool]
) -> Iterator[dict[str, Any]]:
    """The records of any other single JSON document, read whole.

    ``stream_failed`` tells a broken stream (the document may still be whole: a lost gzip trailer)
    from a refusal of this reader (too big).
    """
    parts: list[bytes] = []
    size = 0
    damage: LogFileError | None = None
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > DOCUMENT_LIMIT:
                raise LogFileError(
                    name,
                    f"a JSON document of this layout is read whole and this one is over "
                    f"{DOCUMENT_LIMIT >> 20} MiB; use CloudTrail's delivery layout or JSON Lines",
                )
            parts.append(chunk)
    except LogFileError as exc:
        if not stream_failed():
            raise
        damage = exc  # the stream broke; the document may still be whole (a lost gzip trailer)
    if damage is not None:
        yield from _whole_document(b"".join(parts), damage, name=name, report=report)
        raise damage
    yield from _whole_document(b"".join(parts), None, name=name, report=report)


def _whole_document(
    data: bytes, damage: LogFileError | None, *, name: str, report: Report
) -> Iterator[dict[str, Any]]:
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
            reason = f"invalid JSON: {json_failure(exc)}"
        raise LogFileError(name, reason) from exc
    records, skipped = records_of(value)
    if not records and skipped and isinstance(value, dict):
        raise LogFileError(name, skipped[0])
    for reason in skipped:
        report(reason, None)
    yield from records


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
