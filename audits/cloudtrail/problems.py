"""The two weights of a problem met while reading a log file, shared by every step of reading.

A *record problem* (a bad JSON Lines line, an element of ``Records`` that is not an object) is collected
and reading goes on. A *file problem* (corrupt or truncated gzip, invalid JSON in a delivery file, no
``Records``) ends the file: ``LogFileError``, raised after every record before it has been yielded.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LogFileError", "RecordProblem"]


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
