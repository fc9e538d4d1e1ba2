"""An organization trail in S3, read object by object with a cursor per account and region.

Config::

    {
        "bucket": "org-trail-logs",            # required
        "prefix": "cloudtrail",                # optional, the trail's S3 key prefix (before AWSLogs/)
        "organization_id": "o-abc123def4",     # the o-... segment; omit for a single-account trail
        "accounts": ["111122223333"],          # optional, else discovered under AWSLogs/<org-id>/
        "regions": ["us-east-1", "eu-west-1"], # optional, else discovered per account
        "region": "eu-west-1",                 # the bucket's region
        "role_arn": "arn:aws:iam::...:role/x", # optional, assumed through STS (see ``aws``)
        "endpoint_url": "http://127.0.0.1:5000",  # tests only
        "start_date": "2024-05-01",            # optional, ignore objects delivered before that day
        "settle_minutes": 5,                   # leave objects delivered less than this ago for later
        "max_objects": 0,                      # optional cap per read (0: no cap)
        "object_attempts": 3,                  # fetches of an object whose download breaks off
        "escapes": false,                      # see ``audits.cloudtrail.screen``
        # and the shared keys of ``audits.sources.aws``: session_name, external_id, retry_mode, ...
    }

Layout (AWS's, see the reference 2.7)::

    <bucket>/[<prefix>/]AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/
        <account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<unique>.json.gz

Units are ``<account>/<region>``. The position is the last key read: keys of a unit sort by delivery
time, so ``list_objects_v2(StartAfter=position)`` lists exactly what is new. Only keys under
``.../CloudTrail/<region>/YYYY/MM/DD/`` ending in ``.json.gz`` or ``.json`` are read, so digest files
(``CloudTrail-Digest/``), Insights files and folder markers never are.

Why ``settle_minutes``: objects delivered in the same minute carry random suffixes, so one that lands a
few seconds after its neighbour can sort *before* a key already read, and ``StartAfter`` would skip it
for ever. A file's name holds its delivery minute; reading stops at the first key delivered less than
``settle_minutes`` ago, which leaves the stragglers of that minute time to land. (Keys without the
standard name fall back to ``LastModified``.)

One chunk per object, the object streamed through the byte screen (no temporary file, memory flat).
What advances the cursor and what does not:

* a corrupt or unreadable log (bad gzip, invalid JSON...): a problem naming ``s3://bucket/key`` with
  the reason, ``files_rejected=1``, and the position moves past it (reading it again would fail again);
* an object that vanished (``NoSuchKey``) or is archived (Glacier, Deep Archive): the same;
* the connection failing while the object is streamed: the object is fetched again (``object_attempts``,
  default 3), then ``SourceError`` is raised and the position stays before it;
* any other error (listing, access denied, a KMS key we may not use): ``SourceError`` naming the unit
  or the object, position unchanged, so the next run (or the task's retry) tries again.

``SourceError`` comes after the chunks already read, whose positions stand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import IO, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from audits.cloudtrail.screen import scan_stream

from . import aws
from .aws import AwsSettings, ConfigError, SourceError
from .base import Chunk, FileProblem
from .files import chunk_for_scan, file_limits

__all__ = ["S3TrailSource", "build"]

_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z0-9]+)+-\d+")
_UNIT = re.compile(r"([0-9]{12})/([a-z0-9-]+)")  # ASCII digits: \d also matches other scripts
_LOG_NAME = re.compile(r"\d{4}/\d{2}/\d{2}/[^/]+\.json(?:\.gz)?")
_DELIVERED = re.compile(r"_(\d{8}T\d{4})Z_[^/]*$")
# Archived objects cannot be read without a restore; GLACIER_IR can be read as is.
_ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})


class S3TrailSource:
    """Reads an organization trail's log objects, one unit per account and region."""

    def __init__(
        self,
        *,
        settings: AwsSettings,
        bucket: str,
        prefix: str = "",
        organization_id: str | None = None,
        accounts: list[str] | None = None,
        regions: list[str] | None = None,
        start_date: date | None = None,
        settle: timedelta = timedelta(minutes=5),
        max_objects: int = 0,
        object_attempts: int = 3,
        escapes: bool = False,
        now: Callable[[], datetime] | None = None,
        page_size: int = 1000,
    ) -> None:
        self.settings = settings
        self.bucket = bucket
        self.prefix = prefix
        self.organization_id = organization_id
        self.accounts = accounts
        self.regions = regions
        self.start_date = start_date
        self.settle = settle
        self.max_objects = max_objects
        self.object_attempts = object_attempts
        self.escapes = escapes
        self.now = now or (lambda: datetime.now(UTC))
        self.page_size = page_size

    @cached_property
    def client(self) -> Any:
        return aws.client("s3", self.settings)

    @property
    def base(self) -> str:
        """The key prefix every account's folder sits under, ending in ``/``."""
        org = f"{self.organization_id}/" if self.organization_id else ""
        return f"{self.prefix}AWSLogs/{org}"

    def unit_prefix(self, account: str, region: str) -> str:
        return f"{self.base}{account}/CloudTrail/{region}/"

    # Units.

    def units(self) -> list[str]:
        """``<account>/<region>`` for every configured or discovered pair (listing S3 as needed)."""
        accounts = self.accounts or [name for name in self._folders(self.base) if _ACCOUNT.fullmatch(name)]
        units: list[str] = []
        for account in accounts:
            regions = self.regions or [
                name for name in self._folders(f"{self.base}{account}/CloudTrail/") if _REGION.fullmatch(name)
            ]
            units.extend(f"{account}/{region}" for region in regions)
        return sorted(units)

    def _folders(self, prefix: str) -> list[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        names = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                names.append(common["Prefix"][len(prefix) :].rstrip("/"))
        return names

    # Reading.

    def read(self, unit: str, position: str) -> Iterator[Chunk]:
        match = _UNIT.fullmatch(unit)
        if match is None:
            raise SourceError(unit, "not a unit of this source (expected <account>/<region>)")
        unit_prefix = self.unit_prefix(*match.groups())
        start_after = self._start_after(unit_prefix, position)
        # Objects delivered after this minute are left for the next read (see the module docstring).
        settled_before = self.now() - self.settle
        listing: dict[str, Any] = {"Bucket": self.bucket, "Prefix": unit_prefix}
        if start_after:
            listing["StartAfter"] = start_after
        read = 0
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(**listing, PaginationConfig={"PageSize": self.page_size}):
                for item in page.get("Contents", []):
                    key: str = item["Key"]
                    if not _LOG_NAME.fullmatch(key[len(unit_prefix) :]):
                        continue
                    if _delivered(key, item.get("LastModified")) > settled_before:
                        return
                    if item.get("StorageClass") in _ARCHIVED:
                        reason = f"archived in {item['StorageClass']}: restore it to read it"
                        yield _rejected(key, self._name(key), reason)
                        continue
                    yield self._read_object(key)
                    read += 1
                    if self.max_objects and read >= self.max_objects:
                        return
        except (ClientError, BotoCoreError, ConfigError) as exc:
            raise SourceError(
                f"s3://{self.bucket}/{unit_prefix}", f"cannot list: {aws.describe_error(exc)}"
            ) from exc

    def _start_after(self, unit_prefix: str, position: str) -> str:
        # A position from another prefix (the config changed) could skip everything: start over instead,
        # storage being idempotent.
        start_after = position if position.startswith(unit_prefix) else ""
        if self.start_date is not None:
            # ".../2024/05/01" sorts after every key of 04/30 and before every key of 05/01.
            start_after = max(start_after, unit_prefix + self.start_date.strftime("%Y/%m/%d"))
        return start_after

    def _name(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _read_object(self, key: str) -> Chunk:
        name = self._name(key)
        failure = ""
        for _attempt in range(self.object_attempts):
            body = _ObjectBody(self.client, self.bucket, key)
            try:
                result = scan_stream(body.open, name=name, escapes=self.escapes, limits=file_limits())
            except ClientError as exc:
                code = aws.error_code(exc)
                if code in ("NoSuchKey", "404"):
                    return _rejected(key, name, "the object was deleted before it could be read")
                if code == "InvalidObjectState":
                    return _rejected(key, name, "archived: restore it to read it")
                raise SourceError(name, f"cannot read: {aws.describe_error(exc)}") from exc
            except BotoCoreError as exc:
                failure = aws.describe_error(exc)
                continue
            if body.failure is not None:
                # The connection, not the content, failed: the object is fine and must be read again.
                failure = aws.describe_error(body.failure)
                continue
            return chunk_for_scan(result, position=key, name=name)
        # The object is sound, the connection is not: stop before it so the next run reads it.
        raise SourceError(name, f"cannot download after {self.object_attempts} attempts: {failure}")


class _ObjectBody:
    """Opens the object's streaming body; records a transport failure instead of letting it look like damage.

    ``scan_stream`` reports an ``OSError`` while reading as a file that cannot be read, which would
    advance the cursor past a sound object after a dropped connection. The failure is kept here so the
    caller can tell the two apart.
    """

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key
        self.failure: BaseException | None = None

    def open(self) -> IO[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self.key)["Body"]
        return cast(IO[bytes], _GuardedStream(body, self))


class _GuardedStream:
    def __init__(self, body: Any, owner: _ObjectBody) -> None:
        self._body = body
        self._owner = owner

    def read(self, size: int = -1) -> bytes:
        try:
            data: bytes = self._body.read(size)
        except Exception as exc:
            self._owner.failure = exc
            raise OSError(f"connection failed: {exc}") from exc
        return data

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> _GuardedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _delivered(key: str, last_modified: datetime | None) -> datetime:
    match = _DELIVERED.search(key)
    if match is not None:
        try:
            return datetime.strptime(match.group(1), "%Y%m%dT%H%M").replace(tzinfo=UTC)
        except ValueError:
            pass  # digits that are no time: not CloudTrail's name after all
    if isinstance(last_modified, datetime):
        return last_modified if last_modified.tzinfo else last_modified.replace(tzinfo=UTC)
    return datetime.min.replace(tzinfo=UTC)


def _rejected(key: str, name: str, reason: str) -> Chunk:
    return Chunk(position=key, files_read=1, files_rejected=1, problems=[FileProblem(name, reason)])


def build(config: Mapping[str, Any]) -> S3TrailSource:
    bucket = aws.require_text(config, "bucket")
    prefix = (aws.optional_text(config, "prefix") or "").strip("/")
    organization_id = aws.optional_text(config, "organization_id")
    if organization_id is not None and not re.fullmatch(r"o-[a-z0-9]{10,32}", organization_id):
        raise ConfigError("organization_id must look like o-xxxxxxxxxx")
    accounts = aws.text_list(config, "accounts")
    if accounts and not all(_ACCOUNT.fullmatch(account) for account in accounts):
        raise ConfigError("accounts must be 12-digit account ids")
    start = aws.optional_text(config, "start_date")
    try:
        start_date = date.fromisoformat(start) if start else None
    except ValueError as exc:
        raise ConfigError("start_date must be a date, YYYY-MM-DD") from exc
    settle = config.get("settle_minutes", 5)
    if isinstance(settle, bool) or not isinstance(settle, int | float) or settle < 0:
        raise ConfigError("settle_minutes must be a number of minutes, 0 or more")
    max_objects = config.get("max_objects") or 0
    if isinstance(max_objects, bool) or not isinstance(max_objects, int) or max_objects < 0:
        raise ConfigError("max_objects must be a positive integer, or 0 for no cap")
    return S3TrailSource(
        settings=aws.aws_settings(config),
        bucket=bucket,
        prefix=f"{prefix}/" if prefix else "",
        organization_id=organization_id,
        accounts=accounts,
        regions=aws.text_list(config, "regions"),
        start_date=start_date,
        settle=timedelta(minutes=settle),
        max_objects=max_objects,
        object_attempts=aws.positive_int(config, "object_attempts", 3),
        escapes=bool(config.get("escapes", False)),
    )
