"""Caps on what one CloudTrail log file may make a reader do: a pure value, no Django.

The settings ``PORTAL_INGEST_MAX_DECOMPRESSED_BYTES`` and ``PORTAL_INGEST_MAX_RECORDS_PER_FILE`` fill it
(``audits.sources.files.file_limits``); the screen (``audits.cloudtrail.screen``) applies it while reading.
"""

from __future__ import annotations

from dataclasses import dataclass

from .problems import LogFileError

__all__ = ["FileLimits"]


@dataclass(frozen=True)
class FileLimits:
    """Caps on one file, so a small gzip cannot make a reader work for hours (None: no cap).

    A file over a cap ends with a ``LogFileError`` naming the cap; what was read before it is kept.
    ``max_records`` counts every record (the screen's count of ``"eventVersion"`` keys on the fast path).
    """

    max_bytes: int | None = None
    max_records: int | None = None

    def check_bytes(self, name: str, size: int) -> None:
        if self.max_bytes is not None and size > self.max_bytes:
            raise LogFileError(
                name,
                f"the file decompresses to more than {self.max_bytes:,} bytes, the most read from one "
                "file (PORTAL_INGEST_MAX_DECOMPRESSED_BYTES); the records before that point were read, "
                "the rest of the file was not",
            )

    def check_records(self, name: str, count: int) -> None:
        if self.max_records is not None and count > self.max_records:
            raise LogFileError(
                name,
                f"the file holds more than {self.max_records:,} records, the most read from one file "
                "(PORTAL_INGEST_MAX_RECORDS_PER_FILE); the records before that point were read, the "
                "rest of the file was not",
            )
