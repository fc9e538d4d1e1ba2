"""The reports' small world (one session, one root event in its window, one outside) and a bundle
of it, for every evidence test."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audits.evidence import make_bundle
from audits.tests.reports.conftest import World, world  # noqa: F401 (the fixture, shared)


def period() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(days=1), now + timedelta(days=1)


@pytest.fixture
def bundle(tmp_path: Path, world: World) -> Path:  # noqa: F811 (the fixture imported above)
    since, until = period()
    output = tmp_path / "evidence.zip"
    make_bundle(user=None, since=since, until=until, output=output)
    return output


def rewrite(
    source: Path,
    target: Path,
    *,
    change: dict[str, Callable[[bytes], bytes]] | None = None,
    drop: tuple[str, ...] = (),
    add: dict[str, bytes] | None = None,
) -> Path:
    """A copy of the bundle with members changed, dropped or added, everything else as it was."""
    change = change or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename in drop:
                continue
            data = old.read(info.filename)
            if info.filename in change:
                data = change[info.filename](data)
            new.writestr(info.filename, data)
        for name, data in (add or {}).items():
            new.writestr(name, data)
    return target


def flip_one_byte(data: bytes) -> bytes:
    """The member with the byte in its middle changed."""
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
