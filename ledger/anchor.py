"""Where signed checkpoints are kept, outside the database: a folder or an S3 bucket.

``PORTAL_LEDGER_ANCHOR`` is a folder path, or ``s3://bucket/prefix``. A folder should live on
storage the database's administrators cannot write (another host, a WORM mount); an S3 bucket
should have Object Lock, and with ``PORTAL_LEDGER_ANCHOR_OBJECT_LOCK`` each checkpoint is written
with its own retention (``ObjectLockMode``/``ObjectLockRetainUntilDate``), so nobody, the portal
included, can delete or overwrite it before the retention ends. Checkpoints are only ever added.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import boto3
from django.conf import settings
from django.utils import timezone

S3_SCHEME = "s3://"


class AnchorError(RuntimeError):
    """The anchor cannot be read or written; the message says where."""


class Anchor(Protocol):
    """A write-once store of named documents."""

    location: str

    def put(self, name: str, body: bytes) -> None:
        """Store ``body`` under ``name``; refuse to replace an existing document."""

    def names(self) -> Iterator[str]:
        """Every stored name, in no particular order."""

    def get(self, name: str) -> bytes:
        """The body stored under ``name``."""


class FolderAnchor:
    """Checkpoints as read-only files in a folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)

    def put(self, name: str, body: bytes) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / name
        try:
            # O_EXCL: a checkpoint is never replaced, not even by the portal itself.
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileExistsError:
            raise AnchorError(f"{target} exists already: checkpoints are never replaced") from None
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())

    def names(self) -> Iterator[str]:
        if not self.path.is_dir():
            return
        for child in self.path.iterdir():
            if child.is_file():
                yield child.name

    def get(self, name: str) -> bytes:
        return (self.path / name).read_bytes()


class S3Anchor:
    """Checkpoints as objects under a prefix of a bucket (with Object Lock when configured)."""

    def __init__(
        self, bucket: str, prefix: str, *, lock_mode: str = "", retain_days: int = 0, client: Any = None
    ) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.lock_mode = lock_mode
        self.retain_days = retain_days
        # boto3 finds credentials and region in its usual chain (instance role, environment).
        self.client = client or boto3.client("s3")
        self.location = f"{S3_SCHEME}{bucket}/{self.prefix}"

    def put(self, name: str, body: bytes) -> None:
        extra: dict[str, Any] = {}
        if self.lock_mode:
            extra["ObjectLockMode"] = self.lock_mode
            extra["ObjectLockRetainUntilDate"] = timezone.now() + timedelta(days=self.retain_days)
        self.client.put_object(
            Bucket=self.bucket,
            Key=f"{self.prefix}{name}",
            Body=body,
            ContentType="application/json",
            # Refused by S3 when the key exists: a checkpoint is never replaced.
            IfNoneMatch="*",
            **extra,
        )

    def names(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                name = str(item["Key"])[len(self.prefix) :]
                if name and "/" not in name:
                    yield name

    def get(self, name: str) -> bytes:
        response = self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}{name}")
        return bytes(response["Body"].read())


def anchor_from(location: str) -> Anchor:
    """The anchor a ``PORTAL_LEDGER_ANCHOR`` value names."""
    if location.startswith(S3_SCHEME):
        bucket, _, prefix = location[len(S3_SCHEME) :].partition("/")
        if not bucket:
            raise AnchorError(f"{location!r} names no bucket: expected s3://bucket/prefix")
        return S3Anchor(
            bucket,
            prefix,
            lock_mode=str(getattr(settings, "PORTAL_LEDGER_ANCHOR_OBJECT_LOCK", "") or ""),
            retain_days=int(getattr(settings, "PORTAL_LEDGER_ANCHOR_RETAIN_DAYS", 0) or 0),
        )
    return FolderAnchor(Path(location))


def configured_anchor() -> Anchor:
    """The anchor of ``settings.PORTAL_LEDGER_ANCHOR``."""
    return anchor_from(str(settings.PORTAL_LEDGER_ANCHOR))
