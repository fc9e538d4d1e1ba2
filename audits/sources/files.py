"""Local files and folders: CloudTrail delivery files, plain or gzipped, and JSON Lines.

Config::

    {
        "paths": ["/var/log/cloudtrail", "/tmp/upload.json.gz"],  # files or folders, required
        "escapes": false,  # also screen for \\u-escaped letters (files from unknown tools), slower
    }

Units are the configured paths, as written. A folder is read recursively; hidden files and folders
(names starting with ``.``) and the ``CloudTrail-Digest`` folders CloudTrail writes beside the logs
(signed summaries, no records) are skipped; every other file is read whatever its name, because the
content decides what it is (gzip or not, delivery format or JSON Lines); a file that is not a log is
rejected with the reason. Symbolic links to folders are skipped, not followed (a loop would never end).

This is the one walker of local files: configured ``files`` sources, ``manage.py ingest_cloudtrail``
and the upload form all read through it (``audits.ingest.ingest_paths``).

One chunk per file, in a stable order, or several for a file holding more root records than a batch
(``audits.cloudtrail.screen.BATCH_SIZE``): only the file's last chunk carries the position, the file's
path relative to the unit (POSIX separators; a unit that is a file has its own name as the position),
so a read stopped half-way through a file reads it again, which stores nothing twice. Each file is
read within the caps of ``file_limits`` (settings ``PORTAL_INGEST_MAX_DECOMPRESSED_BYTES`` and
``PORTAL_INGEST_MAX_RECORDS_PER_FILE``); a file over one is rejected with the cap named.

Files are ordered by their path *components* (``("2024", "05", "01", "a.json.gz")``), which is the
order of a walk that sorts each folder, so resuming after a position skips whole folders without
listing them.

A file's last chunk has ``files_read=1``; a file with a file-level error (corrupt gzip, invalid JSON, no
``Records``...) also has ``files_rejected=1`` and a problem naming it, and keeps whatever records came
before the damage. Nothing raises out of ``read``: a missing path is a rejected "file" too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from audits.cloudtrail.limits import FileLimits
from audits.cloudtrail.screen import ScanResult, ScreenedRecord, ScreenStream

from .base import Chunk, ConfigError, FileProblem

__all__ = ["SKIPPED_FOLDERS", "FilesSource", "build", "chunk_for_scan", "file_limits"]

logger = logging.getLogger(__name__)

#: Folders CloudTrail writes next to the logs that hold no records (digest files are signed summaries).
SKIPPED_FOLDERS = frozenset({"CloudTrail-Digest"})


@dataclass(frozen=True)
class FilesSource:
    """Reads the configured files and folders."""

    paths: tuple[str, ...]
    escapes: bool = False
    limits: FileLimits = field(default_factory=lambda: file_limits())

    def units(self) -> list[str]:
        return list(self.paths)

    def read(self, unit: str, position: str) -> Iterator[Chunk]:
        root = Path(unit)
        after = _parts(position)
        try:
            is_dir = root.is_dir()
            exists = is_dir or root.exists()
        except OSError as exc:
            yield _missing(unit, f"cannot read: {exc.strerror or exc}")
            return
        if not exists:
            yield _missing(unit, "no such file or folder")
            return
        if not is_dir:
            if after is None or (root.name,) > after:
                yield from self._read_file(root, root.name)
            return
        for path, relative in _walk(root, (), after):
            yield from self._read_file(path, relative)

    def _read_file(self, path: Path, relative: str) -> Iterator[Chunk]:
        name = str(path)
        stream = ScreenStream(lambda: path.open("rb"), name=name, escapes=self.escapes, limits=self.limits)
        held: list[ScreenedRecord] = []  # the latest batch: the file's last chunk carries it, if last
        reported = 0  # records_read already counted by this file's earlier chunks
        try:
            for batch in stream:
                if held:
                    # A batch is stored (and its count shown) before the rest of the file is read;
                    # the cursor stays before the file until its last chunk.
                    read = stream.records_read
                    yield Chunk(
                        position="", name=name, records=held, records_read=read - reported, continued=True
                    )
                    reported = read
                held = batch
        except Exception as exc:  # one unreadable file must not stop the others
            # The screen reports damage itself; this is the unforeseen, worth a trace in the log.
            logger.exception("unexpected error while reading %s", path)
            yield Chunk(
                position=relative,
                name=name,
                records=held,
                files_read=1,
                files_rejected=1,
                problems=[FileProblem(name, f"unexpected error: {type(exc).__name__}: {exc}")],
            )
            return
        last = chunk_for_scan(stream.result, position=relative, name=name)
        last.records = held
        last.records_read = max(last.records_read - reported, 0)
        yield last


def chunk_for_scan(result: ScanResult, *, position: str, name: str) -> Chunk:
    """The chunk for one screened file (shared with the S3 source, where ``name`` is the object)."""
    # The reader's reasons already say where (line, Records index).
    problems = [FileProblem(name, problem.reason) for problem in result.problems]
    if result.error is not None:
        problems.append(FileProblem(name, result.error.reason))
    return Chunk(
        position=position,
        name=name,
        records=list(result.records),
        files_read=1,
        files_rejected=1 if result.error is not None else 0,
        records_read=result.records_read or 0,
        problems=problems,
    )


def file_limits() -> FileLimits:
    """The caps on one file read by any source, from the settings (documented in docs/operations.md)."""
    return FileLimits(
        max_bytes=settings.PORTAL_INGEST_MAX_DECOMPRESSED_BYTES,
        max_records=settings.PORTAL_INGEST_MAX_RECORDS_PER_FILE,
    )


def build(config: Mapping[str, Any]) -> FilesSource:
    paths = config.get("paths")
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
        raise ConfigError("paths must be a non-empty list of file or folder paths")
    # Keep the order given but drop repeats: a unit is a cursor key and must be unique.
    unique = tuple(dict.fromkeys(paths))
    return FilesSource(paths=unique, escapes=bool(config.get("escapes", False)))


def _walk(folder: Path, prefix: tuple[str, ...], after: tuple[str, ...] | None) -> Iterator[tuple[Path, str]]:
    """Files under ``folder`` whose component path sorts after ``after``, in that order."""
    try:
        with os.scandir(folder) as scan:
            entries = sorted(
                (entry for entry in scan if not entry.name.startswith(".")), key=lambda e: e.name
            )
    except OSError:
        # An unreadable folder is skipped here; files that vanish are reported when opened.
        return
    for entry in entries:
        parts = (*prefix, entry.name)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            linked_dir = not is_dir and entry.is_symlink() and entry.is_dir()
        except OSError:
            is_dir = linked_dir = False
        if linked_dir or (is_dir and entry.name in SKIPPED_FOLDERS):
            continue
        if is_dir:
            # Every file below ``parts`` compares with ``after`` as ``parts`` does, unless ``parts`` is a
            # prefix of ``after`` (the cursor is inside this folder): only then is a descent partial.
            if after is not None and parts < after and after[: len(parts)] != parts:
                continue
            yield from _walk(Path(entry.path), parts, after)
        elif after is None or parts > after:
            yield Path(entry.path), "/".join(parts)


def _parts(position: str) -> tuple[str, ...] | None:
    return tuple(position.split("/")) if position else None


def _missing(unit: str, reason: str) -> Chunk:
    # Position unchanged: the path may appear later (a mount that was not ready) and must be read then.
    return Chunk(position="", name=unit, files_read=0, files_rejected=1, problems=[FileProblem(unit, reason)])
