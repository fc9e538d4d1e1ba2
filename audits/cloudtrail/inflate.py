"""The decompressed bytes of a log file, streamed in bounded chunks: gzip or zlib by magic bytes, else as is.

Damage is reported as ``LogFileError`` only after every byte before it has been handed out, so the
records in front of a corrupt block are not lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

from .problems import LogFileError

if TYPE_CHECKING:
    import zlib  # zlib-ng has the same API; type-check against the standard library's stubs
else:
    try:
        # zlib-ng inflates gzip about 1.5x faster than zlib, with the same API: on a trail where root
        # records are rare, inflating is most of the cost of ingestion (see bench/ingest_benchmark.py).
        from zlib_ng import zlib_ng as zlib
    except ImportError:  # the pinned requirement is normally installed
        import zlib

try:
    # ISA-L inflates faster still (bench/ingest_benchmark.py), but its decompressor cannot be copied,
    # which the salvage of a damaged file needs, and its errors are worded differently. So files are
    # inflated with it first; the rare file it fails on is inflated again with zlib(-ng), which hands
    # out only what ISA-L had not, salvages up to the damage and names it as it always has.
    from isal import isal_zlib

    fast_zlib: Any = isal_zlib
except ImportError:  # the pinned requirement is normally installed
    fast_zlib = None

__all__ = ["CHUNK_SIZE", "GZIP_MAGIC", "READ_SIZE", "DecompressedChunks", "OpenStream"]

# Decompressed bytes handed out at a time; big enough to amortise Python's per-chunk work, small enough to
# stay in the CPU cache while the screen searches it.
CHUNK_SIZE = 1 << 20
# Compressed bytes read at a time.
READ_SIZE = 256 << 10
GZIP_MAGIC = b"\x1f\x8b"

# Opens the file (or S3 object, or upload) afresh: when reading starts, and once more from the start for
# a compressed file in which ISA-L met damage.
OpenStream = Callable[[], IO[bytes]]


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
            if not (head[:2] == GZIP_MAGIC or _is_zlib_header(head)):
                while head:
                    self.bytes_uncompressed += len(head)
                    yield head
                    head = self._read(stream, self._chunk_size)
                return
            self.compressed = True
            try:
                yield from self._inflate(stream, head, fast_zlib or zlib)
                return
            except _FastInflateFailed:
                pass
        # Outside the ``with``: the first stream is closed before the second is opened.
        yield from self._inflate_again(handed=self.bytes_uncompressed)

    def _inflate_again(self, *, handed: int) -> Iterator[bytes]:
        """Inflate the file from its start with zlib, handing out only what follows the first ``handed``
        bytes (those the fast inflater handed out before it failed)."""
        self.bytes_compressed = self.bytes_uncompressed = 0
        try:
            stream = self._open()
        except OSError as exc:
            raise LogFileError(self.name, f"cannot read: {exc.strerror or exc}") from exc
        with stream:
            for out in self._inflate(stream, b"", zlib):
                if handed >= len(out):
                    handed -= len(out)
                    continue
                yield out[handed:] if handed else out
                handed = 0

    def _read(self, stream: IO[bytes], size: int) -> bytes:
        try:
            data = stream.read(size)
        except OSError as exc:
            raise LogFileError(self.name, f"cannot read: {exc.strerror or exc}") from exc
        self.bytes_compressed += len(data)
        return data

    def _inflate(self, stream: IO[bytes], data: bytes, library: Any) -> Iterator[bytes]:
        # wbits=47 (32 + 15): zlib works out gzip or zlib framing from the header itself.
        inflater = library.decompressobj(47)
        checked = library is zlib
        while True:
            if not data:
                data = self._read(stream, self._read_size)
                if not data:
                    break
            while data:
                before = inflater.copy() if checked else None
                try:
                    out = inflater.decompress(data, self._chunk_size)
                except library.error as exc:
                    if before is None:
                        raise _FastInflateFailed from exc
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
                        inflater = library.decompressobj(47)
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


class _FastInflateFailed(Exception):
    """ISA-L met damage: the caller inflates the file again with zlib to salvage and name it."""


def _is_zlib_header(head: bytes) -> bool:
    # A JSON text cannot start with 0x78 ('x'), so a valid zlib header here is unambiguous.
    return len(head) >= 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0
