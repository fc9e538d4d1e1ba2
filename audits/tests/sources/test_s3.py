"""The organization trail source, through boto3 against moto (in-process, and once over real HTTP)."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest

from audits.sources import s3
from audits.sources.aws import ConfigError, SourceError
from audits.sources.base import Chunk
from audits.tests.cloudtrail.support import (
    assume_root_call,
    delivery_bytes,
    iam_user_record,
    root_login_record,
    serialised_user_records,
)

BUCKET = "org-trail"
ORG = "o-abc123def4"
REGION = "eu-west-1"
ALICE, BOB = "111111111111", "222222222222"


def log_key(
    account: str,
    region: str,
    day: date,
    *,
    minute: str = "1200",
    unique: str = "AbCdEfGh12345678",
    prefix: str = "trail/",
) -> str:
    return (
        f"{prefix}AWSLogs/{ORG}/{account}/CloudTrail/{region}/{day:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{day:%Y%m%d}T{minute}Z_{unique}.json.gz"
    )


def put_log(client: Any, key: str, records: list[dict[str, Any]]) -> None:
    client.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(delivery_bytes(records), compresslevel=1))


@pytest.fixture
def s3_client(mocked_aws: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


def source(**config: Any) -> s3.S3TrailSource:
    return s3.build({"bucket": BUCKET, "prefix": "trail", "organization_id": ORG, "region": REGION, **config})


def read(trail: s3.S3TrailSource, unit: str, position: str = "") -> list[Chunk]:
    return list(trail.read(unit, position))


def event_ids(chunks: list[Chunk]) -> list[str]:
    return [found.classification.event_id for chunk in chunks for found in chunk.records]


def test_units_are_discovered_per_account_and_region(s3_client: Any) -> None:
    day = date(2024, 5, 1)
    put_log(s3_client, log_key(ALICE, "us-east-1", day), [iam_user_record(1)])
    put_log(s3_client, log_key(ALICE, "eu-west-1", day), [iam_user_record(2)])
    put_log(s3_client, log_key(BOB, "us-east-1", day), [iam_user_record(3)])
    # Digest files sit beside the logs; they are neither a region nor read.
    digest = f"trail/AWSLogs/{ORG}/{BOB}/CloudTrail-Digest/us-east-1/2024/05/01/digest.json.gz"
    s3_client.put_object(Bucket=BUCKET, Key=digest, Body=b"{}")
    s3_client.put_object(Bucket=BUCKET, Key=f"trail/AWSLogs/{ORG}/not-an-account/x.json.gz", Body=b"{}")

    assert source().units() == [f"{ALICE}/eu-west-1", f"{ALICE}/us-east-1", f"{BOB}/us-east-1"]
    assert source(accounts=[BOB]).units() == [f"{BOB}/us-east-1"]


def test_configured_accounts_and_regions_need_no_listing(aws_credentials: None) -> None:
    # No moto and no endpoint: any call to AWS would fail, so none is made.
    trail = source(accounts=[ALICE, BOB], regions=["us-east-1", "eu-west-1"])

    assert trail.units() == [
        f"{ALICE}/eu-west-1",
        f"{ALICE}/us-east-1",
        f"{BOB}/eu-west-1",
        f"{BOB}/us-east-1",
    ]


def test_each_object_is_read_once_the_cursor_being_the_last_key(s3_client: Any) -> None:
    unit = f"{ALICE}/{REGION}"
    keys = [
        log_key(ALICE, REGION, date(2024, 4, 30), minute="2355"),
        log_key(ALICE, REGION, date(2024, 5, 1), minute="0005"),
        log_key(ALICE, REGION, date(2024, 5, 1), minute="0010"),
    ]
    for index, key in enumerate(keys):
        put_log(s3_client, key, [iam_user_record(index), root_login_record(event_id=f"login-{index}")])
    # Another account's files share the bucket but not the unit.
    put_log(s3_client, log_key(BOB, REGION, date(2024, 5, 1)), [root_login_record(event_id="bob")])
    trail = source()
    trail.page_size = 2  # several list pages, to see StartAfter and paging work together

    first = read(trail, unit)

    assert [chunk.position for chunk in first] == keys
    assert event_ids(first) == ["login-0", "login-1", "login-2"]
    assert [chunk.records_read for chunk in first] == [2, 2, 2]
    assert read(trail, unit, first[-1].position) == []

    new_key = log_key(ALICE, REGION, date(2024, 5, 2), minute="0000")
    put_log(s3_client, new_key, [root_login_record(event_id="login-new")])
    second = read(trail, unit, first[-1].position)

    assert [chunk.position for chunk in second] == [new_key]
    assert event_ids(second) == ["login-new"]


def test_digest_files_and_other_keys_are_skipped(s3_client: Any) -> None:
    day = date(2024, 5, 1)
    key = log_key(ALICE, REGION, day)
    put_log(s3_client, key, [root_login_record(event_id="real")])
    unit_prefix = f"trail/AWSLogs/{ORG}/{ALICE}/CloudTrail/{REGION}/"
    digest = f"trail/AWSLogs/{ORG}/{ALICE}/CloudTrail-Digest/{REGION}/2024/05/01/x_CloudTrail-Digest.json.gz"
    put_log(s3_client, digest, [root_login_record(event_id="digest")])
    s3_client.put_object(Bucket=BUCKET, Key=f"{unit_prefix}2024/05/01/", Body=b"")
    s3_client.put_object(Bucket=BUCKET, Key=f"{unit_prefix}2024/05/01/notes.txt", Body=b"hello")
    s3_client.put_object(Bucket=BUCKET, Key=f"{unit_prefix}README.json", Body=b"{}")

    chunks = read(source(), f"{ALICE}/{REGION}")

    assert [chunk.position for chunk in chunks] == [key]
    assert event_ids(chunks) == ["real"]


def test_a_corrupt_object_is_named_as_rejected_and_the_rest_is_read(s3_client: Any) -> None:
    day = date(2024, 5, 1)
    keys = [log_key(ALICE, REGION, day, minute=minute) for minute in ("0100", "0200", "0300")]
    put_log(s3_client, keys[0], [root_login_record(event_id="before")])
    whole = gzip.compress(delivery_bytes([iam_user_record(n) for n in range(200)]))
    s3_client.put_object(Bucket=BUCKET, Key=keys[1], Body=whole[: len(whole) // 2])
    put_log(s3_client, keys[2], [root_login_record(event_id="after")])

    chunks = read(source(), f"{ALICE}/{REGION}")

    assert [chunk.position for chunk in chunks] == keys
    assert [chunk.files_rejected for chunk in chunks] == [0, 1, 0]
    [problem] = chunks[1].problems
    assert problem.name == f"s3://{BUCKET}/{keys[1]}"
    assert "gzip" in problem.reason
    assert event_ids(chunks) == ["before", "after"]


def test_a_root_record_among_ten_thousand_others_is_found(s3_client: Any) -> None:
    others = serialised_user_records(10_000)
    root = delivery_bytes([root_login_record(event_id="needle")])[len(b'{"Records":[') : -2]
    body = b'{"Records":[' + b",".join([*others[:6000], root, *others[6000:]]) + b"]}"
    key = log_key(ALICE, REGION, date(2024, 5, 1))
    s3_client.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(body, compresslevel=1))

    [chunk] = read(source(), f"{ALICE}/{REGION}")

    assert chunk.records_read == 10_001
    assert event_ids([chunk]) == ["needle"]
    assert chunk.records[0].classification.is_root


def test_start_date_skips_older_objects(s3_client: Any) -> None:
    old = log_key(ALICE, REGION, date(2024, 4, 30), minute="2359")
    new = log_key(ALICE, REGION, date(2024, 5, 1), minute="0000")
    put_log(s3_client, old, [root_login_record(event_id="old")])
    put_log(s3_client, new, [root_login_record(event_id="new")])

    chunks = read(source(start_date="2024-05-01"), f"{ALICE}/{REGION}")

    assert [chunk.position for chunk in chunks] == [new]


def test_objects_delivered_within_the_settle_time_are_left_for_later(s3_client: Any) -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    day = now.date()
    settled = log_key(ALICE, REGION, day, minute="1150")
    # Same delivery minute as a key that may still land and sort before it.
    recent = log_key(ALICE, REGION, day, minute="1158", unique="zzzzzzzzzzzzzzzz")
    for key in (settled, recent):
        put_log(s3_client, key, [root_login_record(event_id=key[-30:])])
    trail = source(settle_minutes=5)

    trail.now = lambda: now
    assert [chunk.position for chunk in read(trail, f"{ALICE}/{REGION}")] == [settled]

    straggler = log_key(ALICE, REGION, day, minute="1158", unique="aaaaaaaaaaaaaaaa")
    put_log(s3_client, straggler, [root_login_record(event_id="straggler")])
    trail.now = lambda: now + timedelta(minutes=5)
    assert [chunk.position for chunk in read(trail, f"{ALICE}/{REGION}", settled)] == [straggler, recent]


def test_a_dropped_connection_fetches_the_object_again_instead_of_rejecting_it(s3_client: Any) -> None:
    key = log_key(ALICE, REGION, date(2024, 5, 1))
    put_log(s3_client, key, [root_login_record(event_id="kept")])
    trail = source()
    trail.client = _FlakyClient(trail.client, failures=1)

    [chunk] = read(trail, f"{ALICE}/{REGION}")

    assert chunk.position == key
    assert chunk.files_rejected == 0
    assert event_ids([chunk]) == ["kept"]


def test_a_connection_that_keeps_failing_stops_the_unit_before_the_object(s3_client: Any) -> None:
    keys = [log_key(ALICE, REGION, date(2024, 5, 1), minute=m) for m in ("0100", "0200", "0300")]
    for key in keys:
        put_log(s3_client, key, [root_login_record(event_id=key[-30:])])
    trail = source()
    chunks = trail.read(f"{ALICE}/{REGION}", "")
    first = next(chunks)
    trail.client = _FlakyClient(trail.client, failures=99)

    with pytest.raises(SourceError) as raised:
        next(chunks)

    # The cursor stays after the first object: the second is sound and must be read next time.
    assert first.position == keys[0]
    assert raised.value.name == f"s3://{BUCKET}/{keys[1]}"
    assert "3 attempts" in raised.value.reason


def test_archived_objects_are_rejected_without_downloading_them(s3_client: Any) -> None:
    key = log_key(ALICE, REGION, date(2024, 5, 1))
    s3_client.put_object(Bucket=BUCKET, Key=key, Body=b"archived", StorageClass="DEEP_ARCHIVE")

    [chunk] = read(source(), f"{ALICE}/{REGION}")

    assert chunk.position == key
    assert chunk.files_rejected == 1
    assert "DEEP_ARCHIVE" in chunk.problems[0].reason


def test_a_missing_bucket_stops_the_read_with_a_source_error(mocked_aws: None) -> None:
    with pytest.raises(SourceError, match="NoSuchBucket"):
        read(source(bucket="no-such-bucket"), f"{ALICE}/{REGION}")


def test_a_single_account_trail_without_organization_id(s3_client: Any) -> None:
    key = (
        f"AWSLogs/{ALICE}/CloudTrail/{REGION}/2024/05/01/{ALICE}_CloudTrail_{REGION}_20240501T1200Z_x.json.gz"
    )
    put_log(s3_client, key, [assume_root_call()])
    trail = s3.build({"bucket": BUCKET, "region": REGION})

    assert trail.units() == [f"{ALICE}/{REGION}"]
    assert event_ids(read(trail, f"{ALICE}/{REGION}")) == ["assume-root-1"]


def test_it_reads_the_trail_over_real_http_through_moto_server(moto_server: str) -> None:
    client = boto3.client("s3", region_name=REGION, endpoint_url=moto_server)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    keys = [log_key(ALICE, REGION, date(2024, 5, 1), minute=m) for m in ("0100", "0200")]
    put_log(client, keys[0], [iam_user_record(1), root_login_record(event_id="over-http")])
    client.put_object(Bucket=BUCKET, Key=keys[1], Body=b"\x1f\x8b not really gzip")
    trail = source(endpoint_url=moto_server)

    assert trail.units() == [f"{ALICE}/{REGION}"]
    chunks = read(trail, f"{ALICE}/{REGION}")

    assert [chunk.position for chunk in chunks] == keys
    assert event_ids(chunks) == ["over-http"]
    assert [chunk.files_rejected for chunk in chunks] == [0, 1]


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"bucket": BUCKET, "organization_id": "org-1"},
        {"bucket": BUCKET, "accounts": ["12345"]},
        {"bucket": BUCKET, "start_date": "May 1st"},
        {"bucket": BUCKET, "retry_mode": "sometimes"},
    ],
)
def test_it_refuses_a_bad_config(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        s3.build(config)


class _FlakyClient:
    """The real client, except that the first ``failures`` bodies break half-way like a dropped connection."""

    def __init__(self, client: Any, *, failures: int) -> None:
        self._client = client
        self.failures = failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        response: dict[str, Any] = self._client.get_object(**kwargs)
        if self.failures > 0:
            self.failures -= 1
            response["Body"] = _BrokenBody(response["Body"].read)
        return response


class _BrokenBody:
    def __init__(self, read: Callable[..., bytes]) -> None:
        self._read = read
        self._calls = 0

    def read(self, size: int = -1) -> bytes:
        self._calls += 1
        if self._calls > 1:
            from botocore.exceptions import ResponseStreamingError

            raise ResponseStreamingError(error="Connection broken: IncompleteRead")
        return self._read(8)

    def close(self) -> None:
        pass
