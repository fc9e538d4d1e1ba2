"""The senders: signed JSON webhooks, Slack-compatible webhooks and email, against a real local HTTP
server; the signature a receiver checks; and what a failure may say."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from breakglass.models import NotificationChannel
from breakglass.notifications import senders, services
from breakglass.notifications.senders import DeliveryError, Message, PermanentDeliveryError, verify_signature
from breakglass.tests.notifications.http_receiver import SLACK_TOKEN_PATH, Receiver, closed_port_url

MESSAGE = Message(
    subject="[Break-glass] BG-1 EMERGENCY: payments-prod (123456789012)",
    body="rita <!channel> broke the glass & ran",
    payload={"event": "request.emergency", "request": {"code": "BG-1"}, "note": "db down"},
)


# --- Signatures -----------------------------------------------------------------------------


def test_a_signature_made_with_the_secret_verifies_and_any_change_breaks_it() -> None:
    secret = b"s3cret"
    now = int(time.time())
    body = b'{"event":"request.emergency"}'
    signature = senders.sign(secret, str(now), body)

    assert signature.startswith("sha256=")
    assert signature == "sha256=" + hmac.new(secret, f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    assert verify_signature(secret, str(now), body, signature)
    assert not verify_signature(b"wrong", str(now), body, signature)
    assert not verify_signature(secret, str(now), body + b" ", signature)
    assert not verify_signature(secret, str(now + 1), body, signature)


def test_a_signature_older_than_the_tolerance_is_refused_as_a_replay() -> None:
    secret = b"s3cret"
    then = int(time.time()) - 301
    signature = senders.sign(secret, str(then), b"{}")
    assert not verify_signature(secret, str(then), b"{}", signature)
    assert verify_signature(secret, str(then), b"{}", signature, tolerance_seconds=600)


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [("", "sha256=00"), ("12a", "sha256=00"), ("-5", "sha256=00"), (" 1", "sha256=00"), ("1", "sha256=é")],
)
def test_malformed_timestamps_and_signatures_are_refused_without_an_exception(
    timestamp: str, signature: str
) -> None:
    assert not verify_signature(b"k", timestamp, b"{}", signature)


# --- Signed JSON webhooks -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_json_webhook_arrives_signed_with_the_channel_secret(
    receiver: Receiver, administrator: Any, account: Any
) -> None:
    channel, secret = services.notification_channel_create(
        actor=administrator, account=account, kind="webhook", name="siem", target=receiver.url()
    )

    senders.send_channel(channel, MESSAGE)

    (got,) = receiver.received
    assert got.headers["Content-Type"] == "application/json"
    timestamp = got.headers["X-Breakglass-Timestamp"]
    signature = got.headers["X-Breakglass-Signature"]
    assert abs(int(timestamp) - time.time()) < 60
    assert verify_signature(secret.encode(), timestamp, got.body, signature)
    assert not verify_signature(b"a-wrong-secret", timestamp, got.body, signature)
    payload = json.loads(got.body)
    assert payload["event"] == "request.emergency"
    assert payload["request"] == {"code": "BG-1"}
    assert payload["note"] == "db down"
    assert payload["sent_at"].endswith("Z")
    assert secret not in got.body.decode()


# --- Slack-compatible webhooks --------------------------------------------------------------


def test_a_slack_message_is_a_json_object_with_only_escaped_text(receiver: Receiver) -> None:
    channel = NotificationChannel(kind="slack", name="#security", target=receiver.url(SLACK_TOKEN_PATH))

    senders.send_channel(channel, MESSAGE)

    (got,) = receiver.received
    assert got.path == SLACK_TOKEN_PATH
    payload = json.loads(got.body)
    assert list(payload) == ["text"]
    assert payload["text"].startswith("*[Break-glass] BG-1 EMERGENCY: payments-prod (123456789012)*\n")
    # A justification cannot ping the whole channel or forge a link.
    assert "<!channel>" not in payload["text"]
    assert "&lt;!channel&gt; broke the glass &amp; ran" in payload["text"]
    assert "X-Breakglass-Signature" not in got.headers


# --- Failures -------------------------------------------------------------------------------


def test_a_server_error_is_a_retryable_delivery_error_that_names_only_the_host(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.status = 500
    channel = NotificationChannel(kind="slack", name="#security", target=receiver.url(SLACK_TOKEN_PATH))

    with caplog.at_level("DEBUG"), pytest.raises(DeliveryError) as caught:
        senders.send_channel(channel, MESSAGE)

    assert not isinstance(caught.value, PermanentDeliveryError)
    assert str(caught.value) == f"{receiver.base_url} answered HTTP 500"
    assert "xoxSecretToken" not in caplog.text
    assert "#security" in caplog.text


def test_a_refusing_client_error_fails_for_good(receiver: Receiver) -> None:
    receiver.status = 404
    channel = NotificationChannel(kind="slack", name="#security", target=receiver.url(SLACK_TOKEN_PATH))
    with pytest.raises(PermanentDeliveryError, match="answered HTTP 404"):
        senders.send_channel(channel, MESSAGE)


def test_a_closed_port_is_a_retryable_delivery_error(local_webhooks_allowed: None) -> None:
    channel = NotificationChannel(kind="slack", name="#security", target=closed_port_url())
    with pytest.raises(DeliveryError, match="could not be reached") as caught:
        senders.send_channel(channel, MESSAGE)
    assert "/hook" not in str(caught.value)


def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.status = 302
    receiver.location = receiver.url("/elsewhere")
    channel = NotificationChannel(kind="slack", name="#security", target=receiver.url())

    with pytest.raises(DeliveryError, match="HTTP 302"):
        senders.send_channel(channel, MESSAGE)

    assert [r.path for r in receiver.received] == ["/hook"]


def test_an_email_channel_sends_one_message_to_its_list(mailoutbox: list[Any]) -> None:
    channel = NotificationChannel(
        kind="email", name="security team", target="sec@example.org, ops@example.org"
    )

    senders.send_channel(channel, MESSAGE)

    (mail,) = mailoutbox
    assert mail.to == ["sec@example.org", "ops@example.org"]
    assert mail.subject == MESSAGE.subject
    assert mail.body == MESSAGE.body
