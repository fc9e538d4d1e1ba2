"""The LookupEvents source, through boto3 against moto extended with ``lookup_events``."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from audits.sources import lookup
from audits.sources.aws import ConfigError, SourceError
from audits.sources.base import Chunk
from audits.tests.aws_support import LookupEventsStore
from audits.tests.cloudtrail.support import (
    assume_root_call,
    iam_user_record,
    member_root_action,
    root_login_record,
)

NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
MEMBER, MANAGEMENT = "222222222222", "111111111111"


class FakeClock:
    """Time that passes only when someone sleeps."""

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds

    def now(self) -> datetime:
        return NOW + timedelta(seconds=self.elapsed)

    def clock(self) -> lookup.Clock:
        return lookup.Clock(monotonic=self.monotonic, sleep=self.sleep, now=self.now, random=lambda: 0.5)


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(mocked_aws: None, lookup_events: LookupEventsStore, fake: FakeClock) -> LookupEventsStore:
    lookup_events.clock = fake.monotonic
    return lookup_events


def root_event(index: int, *, account: str = MEMBER, minutes_ago: float = 60) -> dict[str, Any]:
    record = root_login_record(event_id=f"root-{account}-{index}")
    record["recipientAccountId"] = record["userIdentity"]["accountId"] = account
    record["eventTime"] = (NOW - timedelta(minutes=minutes_ago, seconds=index)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return record


def source(fake: FakeClock, **config: Any) -> lookup.LookupEventsSource:
    config = {
        "accounts": [{"account_id": MEMBER, "role_arn": f"arn:aws:iam::{MEMBER}:role/audit"}],
        # botocore's own retries off unless a test wants them: they would sleep for real.
        "retry_mode": "standard",
        "max_attempts": 1,
        **config,
    }
    return lookup.build(config, clock=fake.clock())


def read(trail: lookup.LookupEventsSource, unit: str, position: str = "") -> list[Chunk]:
    return list(trail.read(unit, position))


def event_ids(chunks: list[Chunk]) -> list[str]:
    return [found.classification.event_id for chunk in chunks for found in chunk.records]


def test_it_pages_through_events_and_moves_the_cursor_only_at_the_end(
    store: LookupEventsStore, fake: FakeClock
) -> None:
    for index in range(120):
        store.add(root_event(index))

    chunks = read(source(fake), f"{MEMBER}/us-east-1")

    # Newest first, so the cursor may only move once every page of the window is stored.
    assert [chunk.position for chunk in chunks] == ["", "", "2024-05-02T12:00:00Z"]
    assert [chunk.records_read for chunk in chunks] == [50, 50, 20]
    assert sorted(event_ids(chunks)) == sorted(f"root-{MEMBER}-{index}" for index in range(120))
    calls = store.served(MEMBER, "us-east-1")
    assert len(calls) == 3
    assert [call.params["MaxResults"] for call in calls] == [50, 50, 50]
    assert [call.params["LookupAttributes"] for call in calls] == [
        [{"AttributeKey": "Username", "AttributeValue": "root"}]
    ] * 3
    assert "NextToken" not in calls[0].params
    assert all(call.params.get("NextToken") for call in calls[1:])
    # Every page repeats the query's time window.
    assert len({(call.params["StartTime"], call.params["EndTime"]) for call in calls}) == 1


def test_non_root_events_are_dropped_and_assume_root_calls_kept(
    store: LookupEventsStore, fake: FakeClock
) -> None:
    named_root = iam_user_record(1, account=MEMBER)
    named_root["userIdentity"]["userName"] = "root"  # an IAM user called root matches Username=root
    named_root["eventTime"] = "2024-05-02T11:00:00Z"
    store.add(named_root, region="us-east-1")
    via_assume_root = member_root_action()
    via_assume_root["eventTime"] = "2024-05-02T11:01:00Z"
    store.add(via_assume_root, region="us-east-1")
    store.add(root_event(1))
    call = assume_root_call()
    call["eventTime"] = "2024-05-02T11:02:00Z"
    store.add(call, region="us-east-1")
    trail = source(
        fake,
        accounts=[
            {"account_id": MEMBER, "role_arn": f"arn:aws:iam::{MEMBER}:role/audit"},
            {
                "account_id": MANAGEMENT,
                "role_arn": f"arn:aws:iam::{MANAGEMENT}:role/audit",
                "assume_root_calls": True,
            },
        ],
    )

    member = read(trail, f"{MEMBER}/us-east-1")
    management = read(trail, f"{MANAGEMENT}/us-east-1")

    assert sum(chunk.records_read for chunk in member) == 3
    assert sorted(event_ids(member)) == ["member-root-1", f"root-{MEMBER}-1"]
    assert event_ids(management) == ["assume-root-1"]
    assert management[-1].position == "2024-05-02T12:00:00Z"
    assert [call.params["LookupAttributes"][0]["AttributeKey"] for call in store.served(MANAGEMENT)] == [
        "Username",
        "EventName",
    ]


def test_each_account_is_read_through_its_own_role(store: LookupEventsStore, fake: FakeClock) -> None:
    store.add(root_event(1, account=MEMBER))
    store.add(root_event(2, account=MANAGEMENT))
    trail = source(
        fake,
        accounts=[MEMBER, MANAGEMENT],
        role_name="audit",
        regions=["eu-west-1"],
    )

    assert trail.units() == [
        f"{MEMBER}/eu-west-1",
        f"{MEMBER}/us-east-1",
        f"{MANAGEMENT}/eu-west-1",
        f"{MANAGEMENT}/us-east-1",
    ]
    # moto gives credentials from sts:AssumeRole to the role's account, as AWS does.
    assert event_ids(read(trail, f"{MEMBER}/us-east-1")) == [f"root-{MEMBER}-1"]
    assert event_ids(read(trail, f"{MANAGEMENT}/us-east-1")) == [f"root-{MANAGEMENT}-2"]
    assert event_ids(read(trail, f"{MANAGEMENT}/eu-west-1")) == []
    assert {call.account for call in store.served()} == {MEMBER, MANAGEMENT}


def test_calls_are_spaced_to_two_a_second(store: LookupEventsStore, fake: FakeClock) -> None:
    for index in range(230):
        store.add(root_event(index))

    read(source(fake), f"{MEMBER}/us-east-1")

    times = [call.at for call in store.served()]
    assert len(times) == 5
    assert all(later - earlier >= 0.5 for earlier, later in itertools.pairwise(times))
    assert all(sum(1 for t in times if start <= t < start + 1) <= 2 for start in times)
    assert fake.sleeps == [0.5] * 4


def test_a_throttled_first_call_is_retried_by_botocore(store: LookupEventsStore, fake: FakeClock) -> None:
    for index in range(60):
        store.add(root_event(index))
    store.throttle(1)

    chunks = read(source(fake, max_attempts=3), f"{MEMBER}/us-east-1")

    assert [call.throttled for call in store.calls] == [True, False, False]
    assert len(event_ids(chunks)) == 60
    assert fake.sleeps == [0.5]  # botocore's own wait is its business; ours is the limiter's only


def test_throttling_beyond_botocore_is_backed_off_with_jitter(
    store: LookupEventsStore, fake: FakeClock
) -> None:
    for index in range(60):
        store.add(root_event(index))
    store.throttle(2)

    chunks = read(source(fake), f"{MEMBER}/us-east-1")

    assert [call.throttled for call in store.calls] == [True, True, False, False]
    # Equal jitter with random() = 0.5: 1 s ceiling -> 0.75 s, then 2 s -> 1.5 s; then the limiter's
    # 0.5 s before the second page.
    assert fake.sleeps == [0.75, 1.5, 0.5]
    assert chunks[-1].position == "2024-05-02T12:00:00Z"  # the window ends when the read started
    assert len(event_ids(chunks)) == 60


def test_it_gives_up_after_its_retries_without_moving_the_cursor(
    store: LookupEventsStore, fake: FakeClock
) -> None:
    for index in range(60):
        store.add(root_event(index))
    chunks = source(fake, max_retries=2).read(f"{MEMBER}/us-east-1", "")
    first = next(chunks)
    store.throttle(10)

    with pytest.raises(SourceError) as raised:
        next(chunks)

    assert first.position == ""  # the window's first page: the cursor has not moved
    assert raised.value.name == f"lookup {MEMBER}/us-east-1 Username=root"
    assert "throttled" in raised.value.reason
    assert [call.throttled for call in store.calls] == [False, True, True, True]


def test_the_window_starts_at_the_lookback_then_overlaps_the_last_position(
    store: LookupEventsStore, fake: FakeClock
) -> None:
    store.add(root_event(1, minutes_ago=30 * 60))  # older than the 24 h lookback
    store.add(root_event(2, minutes_ago=10))
    trail = source(fake)

    first = read(trail, f"{MEMBER}/us-east-1")
    second = read(trail, f"{MEMBER}/us-east-1", "2024-05-02T11:55:00Z")

    assert event_ids(first) == [f"root-{MEMBER}-2"]
    start_times = [call.params["StartTime"] for call in store.served()]
    assert start_times == [
        (NOW - timedelta(hours=24)).timestamp(),
        (datetime(2024, 5, 2, 11, 55, tzinfo=UTC) - timedelta(minutes=15)).timestamp(),
    ]
    # 11:50 is inside the overlap, so the event shows again (storage is idempotent).
    assert event_ids(second) == [f"root-{MEMBER}-2"]


def test_a_malformed_event_is_a_problem_and_the_page_is_kept(
    store: LookupEventsStore, fake: FakeClock
) -> None:
    store.add(root_event(1))
    store.add(root_event(2))
    broken = store.events[(MEMBER, "us-east-1")][0]
    store.events[(MEMBER, "us-east-1")][0] = copy.deepcopy(broken) | {"CloudTrailEvent": "{not json"}

    [chunk] = read(source(fake), f"{MEMBER}/us-east-1")

    assert event_ids([chunk]) == [f"root-{MEMBER}-2"]
    assert chunk.problems[0].name == f"lookup {MEMBER}/us-east-1 event root-{MEMBER}-1"
    assert chunk.position


def test_an_account_that_is_not_configured_is_refused(store: LookupEventsStore, fake: FakeClock) -> None:
    with pytest.raises(SourceError, match="not configured"):
        read(source(fake), "999999999999/us-east-1")

    assert store.calls == []


def test_us_east_1_is_always_read_and_the_lookback_is_capped() -> None:
    trail = lookup.build({"accounts": [MEMBER], "regions": ["eu-west-1"], "lookback_hours": 24 * 365})

    assert trail.units() == [f"{MEMBER}/eu-west-1", f"{MEMBER}/us-east-1"]
    assert trail.lookback == timedelta(days=90)
    assert trail.settings.retry_mode == "adaptive"


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"accounts": ["12345"]},
        # The same digits in Arabic-Indic script: \d accepted them (issue 8, item 10).
        {"accounts": ["".join(chr(0x0660 + int(digit)) for digit in "123456789012")]},
        {"accounts": [MEMBER, MEMBER]},
        {"accounts": [{"role_arn": "x"}]},
        {"accounts": [MEMBER], "overlap_minutes": -1},
    ],
)
def test_it_refuses_a_bad_config(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        lookup.build(config)
