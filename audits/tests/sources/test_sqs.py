"""The EventBridge-to-SQS source, through boto3 against moto in-process."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from audits.sources import sqs
from audits.sources.aws import ConfigError, SourceError
from audits.sources.base import Chunk
from audits.tests.cloudtrail.support import (
    assume_root_call,
    eventbridge,
    iam_user_record,
    member_root_action,
    root_login_record,
)

REGION = "us-east-1"


@pytest.fixture
def queue(mocked_aws: None) -> tuple[Any, str]:
    client = boto3.client("sqs", region_name=REGION)
    url = client.create_queue(QueueName="root-activity", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    return client, url


def send(client: Any, url: str, body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    message_id: str = client.send_message(QueueUrl=url, MessageBody=text)["MessageId"]
    return message_id


def source(url: str, **config: Any) -> sqs.SqsSource:
    return sqs.build({"queue_url": url, "wait_seconds": 0, **config})


def read(queue_source: sqs.SqsSource) -> list[Chunk]:
    return list(queue_source.read(queue_source.units()[0], ""))


def in_queue(client: Any, url: str) -> int:
    attributes = client.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def event_ids(chunks: list[Chunk]) -> list[str]:
    return sorted(found.classification.event_id for chunk in chunks for found in chunk.records)


def test_eventbridge_sns_and_bare_records_are_unwrapped(queue: tuple[Any, str]) -> None:
    client, url = queue
    send(client, url, eventbridge(root_login_record(event_id="via-eventbridge")))
    sns = {"Type": "Notification", "MessageId": "m", "Message": json.dumps(eventbridge(member_root_action()))}
    send(client, url, sns)
    send(client, url, assume_root_call(event_id="bare-record"))
    send(client, url, eventbridge(iam_user_record(1)))  # not root: read, not kept

    chunks = read(source(url))

    assert event_ids(chunks) == ["bare-record", "member-root-1", "via-eventbridge"]
    assert sum(chunk.files_read for chunk in chunks) == 4
    assert sum(chunk.records_read for chunk in chunks) == 4
    assert all(chunk.position == "" for chunk in chunks)
    assert not any(chunk.problems for chunk in chunks)
    assert source(url).units() == ["root-activity"]


def test_messages_are_deleted_only_when_the_chunk_is_acknowledged(queue: tuple[Any, str]) -> None:
    client, url = queue
    send(client, url, eventbridge(root_login_record(event_id="login")))
    # A zero visibility timeout stands for "the worker died before committing": the message is back at once.
    unacknowledged = source(url, visibility_timeout=0, max_batches=1)

    [first] = read(unacknowledged)
    [again] = read(unacknowledged)

    assert event_ids([first]) == event_ids([again]) == ["login"]
    assert again.acknowledge is not None
    again.acknowledge()
    assert read(source(url)) == []
    assert in_queue(client, url) == 0


def test_a_poison_message_is_reported_and_deleted(queue: tuple[Any, str]) -> None:
    client, url = queue
    poison = send(client, url, "this is not JSON")
    no_record = send(client, url, {"hello": "world"})
    send(client, url, eventbridge(root_login_record(event_id="good")))

    [chunk] = read(source(url))

    assert event_ids([chunk]) == ["good"]
    assert chunk.files_read == 3
    assert chunk.files_rejected == 2
    assert sorted(problem.name for problem in chunk.problems) == sorted(
        [f"sqs message {poison}", f"sqs message {no_record}"]
    )
    assert chunk.acknowledge is not None
    chunk.acknowledge()
    assert in_queue(client, url) == 0


def test_a_read_ends_at_an_empty_receive_or_after_max_batches(queue: tuple[Any, str]) -> None:
    client, url = queue
    for index in range(25):
        send(client, url, eventbridge(root_login_record(event_id=f"login-{index}")))

    capped = read(source(url, max_batches=2, visibility_timeout=60))
    rest = read(source(url, visibility_timeout=60))

    assert len(capped) == 2
    assert sum(chunk.files_read for chunk in capped + rest) == 25
    assert len(event_ids(capped + rest)) == 25
    assert all(chunk.files_read <= 10 for chunk in capped + rest)


def test_a_failing_receive_stops_the_read_with_a_source_error(queue: tuple[Any, str]) -> None:
    _, url = queue

    with pytest.raises(SourceError, match="cannot receive"):
        read(source(url.replace("root-activity", "no-such-queue")))


def test_the_region_is_read_from_a_standard_queue_url() -> None:
    queue_source = sqs.build({"queue_url": "https://sqs.eu-west-1.amazonaws.com/111122223333/root-activity"})

    assert queue_source.settings.region == "eu-west-1"
    assert queue_source.units() == ["root-activity"]


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"queue_url": "root-activity"},
        {"queue_url": "https://sqs.us-east-1.amazonaws.com/111122223333/q", "max_messages": 11},
        {"queue_url": "https://sqs.us-east-1.amazonaws.com/111122223333/q", "wait_seconds": 21},
        {"queue_url": "https://sqs.us-east-1.amazonaws.com/111122223333/q", "read_timeout": 5},
    ],
)
def test_it_refuses_a_bad_config(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        sqs.build(config)
