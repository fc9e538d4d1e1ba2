"""Helpers shared by ``run_dev.py`` and ``testenv.py``: fresh secrets and ``KEY=value`` env files.

Standard library only: these run before (and outside) the project's virtual environment matters.
"""

from __future__ import annotations

import base64
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def new_encryption_keys() -> str:
    """A one-entry ``PORTAL_ENCRYPTION_KEYS`` value: ``k<yyyymmdd>:<base64 of 32 random bytes>``."""
    key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    return f"k{datetime.now(UTC):%Y%m%d}:{key}"


def new_ledger_keys() -> str:
    """A one-entry ``PORTAL_LEDGER_KEYS`` value (the ledger's HMAC key): ``l<yyyymmdd>:<base64 32 bytes>``."""
    key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    return f"l{datetime.now(UTC):%Y%m%d}:{key}"


def new_evidence_signing_key() -> str:
    """A one-entry ``PORTAL_EVIDENCE_SIGNING_KEY`` value (the evidence bundles' Ed25519 seed),
    ``e<yyyymmdd>:<base64 of 32 bytes>``, made like the ledger's signing key."""
    key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    return f"e{datetime.now(UTC):%Y%m%d}:{key}"


def new_ledger_signing_key() -> str:
    """A one-entry ``PORTAL_LEDGER_SIGNING_KEY`` value: an Ed25519 seed, ``s<yyyymmdd>:<base64 of 32 bytes>``.

    Any 32 random bytes are a valid Ed25519 private key (the seed), so no crypto library is needed here.
    """
    key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    return f"s{datetime.now(UTC):%Y%m%d}:{key}"


def new_secret_key() -> str:
    """A ``DJANGO_SECRET_KEY`` well past Django's 50-character, 5-unique-character minimum."""
    return secrets.token_urlsafe(64)


def read_env_file(path: Path) -> dict[str, str]:
    """Parse ``KEY=value`` lines (blank lines and ``#`` comments ignored; no shell expansion).

    A value may be wrapped in single or double quotes, which are removed. The same file can be
    read by ``docker compose --env-file`` and sourced by a POSIX shell.
    """
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ValueError(f"{path}:{number}: expected KEY=value, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def write_env_file(path: Path, values: dict[str, str], *, header: str) -> None:
    """Write ``values`` as ``KEY=value`` lines, readable only by the owner (it holds secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += [f"{name}={value}" for name, value in values.items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
