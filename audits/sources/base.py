"""The contract every CloudTrail source adapter keeps.

A source is split into **units** of work (an account/region prefix of an organization trail, one
region of LookupEvents, one queue, one folder) so Celery can fan them out and two workers never
read the same unit at once (the unit's cursor row is locked while it is read).

Reading a unit yields **chunks** in order. Each chunk carries the root-relevant records it found
(already screened and classified), what it read, any problems, and the cursor **position** to store
once the chunk's records are stored. The ingestion service stores a chunk's records and advances the
cursor to ``chunk.position`` in one transaction, so a run killed half-way resumes right after the
last stored chunk and never skips or half-writes one. ``acknowledge`` (SQS) runs only after commit.

Adapters know nothing of Django models; boto3 clients are passed in (or built from the source's
config) so tests talk to moto through boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from audits.cloudtrail.screen import ScreenedRecord


class ConfigError(ValueError):
    """A source's config is unusable (a missing or malformed key); the message names the key."""


@dataclass(frozen=True)
class FileProblem:
    """A file (or message, or page) that could not be read, and why, in words for the run page."""

    name: str
    reason: str


@dataclass
class Chunk:
    """What one step of reading a unit produced."""

    # Where the cursor goes once this chunk is stored ("" leaves it unchanged).
    position: str
    records: list[ScreenedRecord] = field(default_factory=list)
    files_read: int = 0
    files_rejected: int = 0
    records_read: int = 0
    problems: list[FileProblem] = field(default_factory=list)
    # Called after the transaction that stored the chunk commits (e.g. delete SQS messages).
    acknowledge: Callable[[], None] | None = None
    # The file or object the records came from, to name it in problems found while storing them
    # ("": the position names it).
    name: str = ""
    # More chunks of the same file follow (a file with more root records than one batch holds).
    continued: bool = False


class Source(Protocol):
    """A configured adapter: lists its units and reads one from a cursor position."""

    def units(self) -> list[str]:
        """The units of work, e.g. ``"111122223333/us-east-1"``; stable names, used as cursor keys."""
        ...

    def read(self, unit: str, position: str) -> Iterator[Chunk]:
        """Yield chunks of ``unit`` after ``position`` (``""`` = from the beginning), in order."""
        ...


SourceFactory = Callable[[dict[str, Any]], Source]
