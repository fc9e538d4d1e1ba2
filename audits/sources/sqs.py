"""EventBridge events delivered to SQS: root activity within a minute of it happening.

Config::

    {
        "queue_url": "https://sqs.us-east-1.amazonaws.com/111122223333/root-activity",  # required
        "region": "us-east-1",       # optional, read from the queue URL when it is a standard one
        "endpoint_url": "http://127.0.0.1:5000",  # tests only
        "wait_seconds": 10,          # long polling, 0-20
        "max_messages": 10,          # per receive, 1-10
        "max_batches": 50,           # receives per read; a read also ends at the first empty receive
        "visibility_timeout": null,  # optional, seconds a received message stays hidden
        "role_arn": "...",           # optional, and the other shared keys of ``audits.sources.aws``
    }

The unit is the queue's name. SQS has no cursor, so every chunk's position is ``""``: a message is
"read" when it is deleted, and it is deleted only by the chunk's ``acknowledge``, which the caller runs
after the transaction that stored the chunk's records has committed. A worker that dies before that
leaves the messages to reappear after the visibility timeout and be stored again (idempotently).

A message body is an EventBridge event whose ``detail`` is the CloudTrail record (the rule's target is
the queue); an SNS notification wrapping such an event (``{"Type": "Notification", "Message": "..."}``,
when the AWS sample's hub topic is subscribed) and a bare CloudTrail record are accepted too. A
message that holds none of these (a poison message) is reported as a problem naming its MessageId,
counted in ``files_rejected``, and deleted with the others: left in the queue it would come back on
every read for ever (or fill a dead-letter queue nobody reads).

One chunk per received batch; ``files_read`` counts messages. A receive that fails raises
``SourceError`` (after the batches already received).

The caller should store and acknowledge each chunk before asking for the next one: messages left
unacknowledged longer than the queue's visibility timeout are delivered again (harmless, but noisy).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from audits.cloudtrail.classify import classify
from audits.cloudtrail.layout import records_of
from audits.cloudtrail.screen import ScreenedRecord

from . import aws
from .aws import AwsSettings, ConfigError, SourceError
from .base import Chunk, FileProblem

__all__ = ["SqsSource", "build", "records_in_message"]

logger = logging.getLogger(__name__)

_QUEUE_URL = re.compile(r"https?://[^/]+/\d{12}/[^/]+/?")
_STANDARD_HOST = re.compile(r"https?://sqs\.([a-z]{2}(?:-[a-z0-9]+)+-\d+)\.amazonaws\.com(?:\.cn)?/")
# An SNS envelope can wrap an EventBridge event; nothing legitimate nests deeper than that.
_MAX_ENVELOPES = 3


@dataclass
class SqsSource:
    """Receives EventBridge events from one queue."""

    settings: AwsSettings
    queue_url: str
    wait_seconds: int = 10
    max_messages: int = 10
    max_batches: int = 50
    visibility_timeout: int | None = None

    @property
    def queue_name(self) -> str:
        return self.queue_url.rstrip("/").rsplit("/", 1)[-1]

    @cached_property
    def client(self) -> Any:
        return aws.client("sqs", self.settings)

    def units(self) -> list[str]:
        return [self.queue_name]

    def read(self, unit: str, position: str) -> Iterator[Chunk]:
        # ``position`` is ignored: SQS has no cursor, deletion is the progress.
        request: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MaxNumberOfMessages": self.max_messages,
            "WaitTimeSeconds": self.wait_seconds,
        }
        if self.visibility_timeout is not None:
            request["VisibilityTimeout"] = self.visibility_timeout
        for _batch in range(self.max_batches):
            try:
                messages = self.client.receive_message(**request).get("Messages") or []
            except (ClientError, BotoCoreError, ConfigError) as exc:
                raise SourceError(self.queue_url, f"cannot receive: {aws.describe_error(exc)}") from exc
            if not messages:
                return
            yield self._chunk(messages)

    def _chunk(self, messages: list[dict[str, Any]]) -> Chunk:
        chunk = Chunk(position="", files_read=len(messages))
        for message in messages:
            records, reason = records_in_message(message.get("Body"))
            if reason:
                chunk.files_rejected += 1
                chunk.problems.append(FileProblem(f"sqs message {message.get('MessageId')}", reason))
            chunk.records_read += len(records)
            for record in records:
                classification = classify(record)
                if classification.is_root or classification.is_assume_root_call:
                    chunk.records.append(ScreenedRecord(record, classification))
        chunk.acknowledge = self._deleter([m["ReceiptHandle"] for m in messages if m.get("ReceiptHandle")])
        return chunk

    def _deleter(self, receipts: list[str]) -> Callable[[], None]:
        def acknowledge() -> None:
            # Run after commit: a failure here only means the messages come back and are stored again,
            # so it is logged, not raised into the caller's post-commit hook.
            entries = [{"Id": str(index), "ReceiptHandle": receipt} for index, receipt in enumerate(receipts)]
            if not entries:
                return
            try:
                response = self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                logger.warning("could not delete %d messages from %s: %s", len(entries), self.queue_url, exc)
                return
            for failed in response.get("Failed") or []:
                logger.warning(
                    "could not delete a message from %s: %s %s",
                    self.queue_url,
                    failed.get("Code"),
                    failed.get("Message"),
                )

        return acknowledge


def records_in_message(body: Any) -> tuple[list[dict[str, Any]], str]:
    """The CloudTrail records in one message body, and why it is malformed ("" when it is not)."""
    if not isinstance(body, str):
        return [], "the message has no body"
    value: Any = body
    for _ in range(_MAX_ENVELOPES):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError) as exc:
            return [], f"the body is not JSON: {exc}"
        # SNS notification: the payload is a JSON string in "Message".
        if (
            isinstance(value, dict)
            and value.get("Type") == "Notification"
            and isinstance(value.get("Message"), str)
        ):
            value = value["Message"]
            continue
        break
    else:
        return [], "too many nested envelopes"
    records, skipped = records_of(value)
    if skipped:
        return records, "; ".join(skipped)
    if not records:
        return [], "no CloudTrail record in the message"
    return records, ""


def build(config: Mapping[str, Any]) -> SqsSource:
    queue_url = aws.require_text(config, "queue_url")
    if _QUEUE_URL.fullmatch(queue_url) is None:
        raise ConfigError(
            "queue_url must be a queue URL, https://sqs.<region>.amazonaws.com/<account>/<name>"
        )
    settings = aws.aws_settings(config)
    if settings.region is None:
        standard = _STANDARD_HOST.match(queue_url)
        if standard is not None:
            settings = settings.in_region(standard.group(1))
    wait_seconds = _bounded(config, "wait_seconds", 10, 0, 20)
    # botocore must wait longer for the answer than SQS holds the long poll.
    if settings.read_timeout <= wait_seconds:
        raise ConfigError("read_timeout must be longer than wait_seconds")
    visibility = config.get("visibility_timeout")
    return SqsSource(
        settings=settings,
        queue_url=queue_url,
        wait_seconds=wait_seconds,
        max_messages=_bounded(config, "max_messages", 10, 1, 10),
        max_batches=aws.positive_int(config, "max_batches", 50),
        visibility_timeout=None
        if visibility is None
        else _bounded(config, "visibility_timeout", 30, 0, 43200),
    )


def _bounded(config: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value: object = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{key} must be a whole number from {low} to {high}")
    return value
