"""What a channel's target may be, and what pages show of it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from breakglass.models import NotificationChannel
from breakglass.notifications import targets
from breakglass.tests.notifications.http_receiver import SLACK_TOKEN_PATH

# --- Targets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "file:///etc/passwd",
        "ftp://example.org/hook",
        "hooks.slack.com/services/x",
        "https://user:pass@example.org/hook",
        "https://",
        "https://example.org/a b",
    ],
)
def test_only_plain_http_and_https_urls_are_accepted_as_webhook_targets(target: str) -> None:
    with pytest.raises(ValidationError) as caught:
        targets.validate_target("webhook", target)
    # The refusal does not repeat the (secret) URL.
    message = " ".join(caught.value.messages)
    assert "example.org" not in message
    assert "passwd" not in message


def test_an_email_channel_takes_a_comma_separated_list_of_addresses() -> None:
    assert targets.validate_target("email", " sec@example.org,  ops@example.org ,") == (
        "sec@example.org, ops@example.org"
    )
    with pytest.raises(ValidationError):
        targets.validate_target("email", "sec@example.org, not-an-address")
    with pytest.raises(ValidationError):
        targets.validate_target("email", " , ")


def test_a_webhook_target_is_shown_as_scheme_and_host_only() -> None:
    channel = NotificationChannel(
        kind="slack", name="sec", target="https://hooks.slack.com" + SLACK_TOKEN_PATH
    )
    assert targets.masked_target(channel) == "https://hooks.slack.com/…"
    email = NotificationChannel(kind="email", name="sec", target="sec@example.org")
    assert targets.masked_target(email) == "sec@example.org"
