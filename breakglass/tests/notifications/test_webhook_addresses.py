"""Where a webhook may go (issue 8, item 9): https only in production, and never to this machine, the
private network or a cloud's metadata service, whatever the name resolves to when the message leaves.

Every test here runs on the tests' own network (the ``network`` fixture): names resolve to what the test
says, and only 127.0.0.1 can be reached, so a refusal is proved by the receiver hearing nothing and by
no connection having been tried at all.
"""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError

from breakglass.models import AccessRequest, Notification, NotificationChannel
from breakglass.notifications import senders, targets
from breakglass.notifications.forms import ChannelForm
from breakglass.notifications.senders import DeliveryError, Message, PermanentDeliveryError
from breakglass.tasks import deliver_notification
from breakglass.tests.notifications.conftest import LocalNetwork
from breakglass.tests.notifications.http_receiver import Receiver, running_receiver
from ledger.models import LedgerEntry
from portal.tests.settings_support import PRODUCTION_ENV, run_python

MESSAGE = Message(subject="[Break-glass] test", body="hello", payload={"event": "channel.test"})
PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture
def allowance_off(settings: Any) -> None:
    """No network is allowed beyond the public internet; plain http stays allowed, so what is
    refused below is the address, not the scheme."""
    settings.PORTAL_WEBHOOK_ALLOW_HTTP = True
    settings.PORTAL_WEBHOOK_ALLOWED_NETWORKS = []


@pytest.fixture
def listening() -> Any:
    """A receiver on 127.0.0.1 that the test does not allow (unlike the ``receiver`` fixture)."""
    with running_receiver() as running:
        yield running


def slack(target: str) -> NotificationChannel:
    return NotificationChannel(kind="slack", name="#security", target=target)


# --- At send time: the resolved address is checked, and is the one connected to ------------------


@pytest.mark.parametrize(
    ("host", "what"),
    [
        ("127.0.0.1", "loopback"),
        ("[::1]", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.10", "private"),
        ("169.254.169.254", "metadata"),
        ("[fd00:ec2::254]", "metadata"),
        ("[fe80::1]", "link-local"),
        ("100.64.0.1", "shared"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("[::ffff:127.0.0.1]", "loopback"),
    ],
)
def test_a_literal_local_private_or_metadata_address_is_refused_before_connecting(
    allowance_off: None, listening: Receiver, network: LocalNetwork, host: str, what: str
) -> None:
    port = listening.server.server_address[1]

    with pytest.raises(PermanentDeliveryError, match="refused") as caught:
        senders.send_channel(slack(f"http://{host}:{port}/hook"), MESSAGE)

    assert what in str(caught.value)
    assert listening.received == []
    assert network.connections == []


def test_a_name_that_resolves_to_loopback_is_refused_at_send_time(
    allowance_off: None, listening: Receiver, network: LocalNetwork
) -> None:
    # DNS rebinding: the name was public when the channel was saved; now it answers 127.0.0.1.
    network.names["hooks.example.org"] = ["127.0.0.1"]
    port = listening.server.server_address[1]

    with pytest.raises(PermanentDeliveryError, match=r"refused.*127\.0\.0\.1.*loopback"):
        senders.send_channel(slack(f"http://hooks.example.org:{port}/hook"), MESSAGE)

    assert listening.received == []
    assert network.connections == []


def test_one_refused_address_among_public_ones_refuses_the_target(
    allowance_off: None, network: LocalNetwork
) -> None:
    network.names["hooks.example.org"] = [PUBLIC_ADDRESS, "10.0.0.1"]

    with pytest.raises(PermanentDeliveryError, match=r"10\.0\.0\.1.*private"):
        senders.send_channel(slack("https://hooks.example.org/hook"), MESSAGE)

    assert network.connections == []


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(
    receiver: Receiver, network: LocalNetwork
) -> None:
    # Resolved once: a second answer (the rebinding) is never asked for, so never used.
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])
    network.names = _AnswersInTurn(answers)  # type: ignore[assignment]
    port = receiver.server.server_address[1]

    senders.send_channel(slack(f"http://hooks.example.org:{port}/hook"), MESSAGE)

    (got,) = receiver.received
    assert got.headers["Host"] == f"hooks.example.org:{port}"
    assert network.lookups == ["hooks.example.org"]
    assert network.connections == ["127.0.0.1"]


def certificate_for(name: str, folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_receiver(local_webhooks_allowed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An https receiver on 127.0.0.1 whose certificate names hooks.example.org, trusted by the
    senders' TLS context (and by nothing else)."""
    cert_file, key_file = certificate_for("hooks.example.org", tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    default_context = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: default_context(cafile=str(cert_file)))
    with running_receiver(server_context) as running:
        yield running


def test_https_connects_to_the_checked_address_and_tls_checks_the_name(
    tls_receiver: Receiver, network: LocalNetwork
) -> None:
    network.names["hooks.example.org"] = ["127.0.0.1"]
    port = tls_receiver.server.server_address[1]

    senders.send_channel(slack(f"https://hooks.example.org:{port}/hook"), MESSAGE)

    (got,) = tls_receiver.received
    assert got.headers["Host"] == f"hooks.example.org:{port}"
    assert tls_receiver.server_names == ["hooks.example.org"]
    assert network.connections == ["127.0.0.1"]


def test_https_refuses_a_certificate_that_does_not_name_the_host(
    tls_receiver: Receiver, network: LocalNetwork
) -> None:
    # The same checked address, under another name: the certificate does not match, nothing is sent.
    network.names["other.example.org"] = ["127.0.0.1"]
    port = tls_receiver.server.server_address[1]

    with pytest.raises(DeliveryError, match="could not be reached"):
        senders.send_channel(slack(f"https://other.example.org:{port}/hook"), MESSAGE)

    assert tls_receiver.received == []
    assert tls_receiver.server_names == ["other.example.org"]


class _AnswersInTurn(dict[str, list[str]]):
    """A resolver whose answer for every name changes at each lookup."""

    def __init__(self, answers: Any) -> None:
        super().__init__()
        self._answers = answers

    def __contains__(self, name: object) -> bool:
        return True

    def __getitem__(self, name: str) -> list[str]:
        return list(next(self._answers))


def test_a_redirect_to_loopback_is_refused_and_not_followed(
    receiver: Receiver, network: LocalNetwork
) -> None:
    with running_receiver() as elsewhere:
        receiver.status = 302
        receiver.location = elsewhere.url("/metadata")

        with pytest.raises(PermanentDeliveryError, match="redirect"):
            senders.send_channel(slack(receiver.url()), MESSAGE)

        assert elsewhere.received == []
    assert [r.path for r in receiver.received] == ["/hook"]


def test_a_redirect_to_the_metadata_service_is_not_followed(
    receiver: Receiver, network: LocalNetwork
) -> None:
    receiver.status = 307
    receiver.location = "http://169.254.169.254/latest/meta-data/"

    with pytest.raises(PermanentDeliveryError, match="redirect"):
        senders.send_channel(slack(receiver.url()), MESSAGE)

    assert network.connections == ["127.0.0.1"]


def test_plain_http_is_refused_in_production_before_connecting(
    production_webhook_rules: None, network: LocalNetwork
) -> None:
    network.names["hooks.example.org"] = [PUBLIC_ADDRESS]

    with pytest.raises(PermanentDeliveryError, match="https"):
        senders.send_channel(slack("http://hooks.example.org/hook"), MESSAGE)

    assert network.connections == []


def test_a_name_that_does_not_resolve_may_be_retried(allowance_off: None, network: LocalNetwork) -> None:
    with pytest.raises(DeliveryError, match="could not be resolved") as caught:
        senders.send_channel(slack("https://nowhere.example.org/hook"), MESSAGE)

    assert not isinstance(caught.value, PermanentDeliveryError)


@pytest.mark.django_db
def test_a_refused_target_fails_at_the_first_attempt_with_its_reason_in_the_ledger(
    allowance_off: None, access_request: AccessRequest, network: LocalNetwork
) -> None:
    network.names["hooks.example.org"] = ["169.254.169.254"]
    channel = NotificationChannel.objects.create(
        account=access_request.account,
        kind="slack",
        name="#sec",
        target="https://hooks.example.org/T0/secret",
    )
    notification = Notification.objects.create(
        request=access_request, channel=channel, event="request.created", subject="s", body="b"
    )

    assert deliver_notification(notification.pk) == "failed"

    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", 1)
    assert "refused" in notification.last_error
    assert "169.254.169.254" in notification.last_error
    assert "secret" not in notification.last_error
    entry = LedgerEntry.objects.get(action="notification.failed")
    assert entry.data["error"] == notification.last_error
    assert network.connections == []


# --- At save time: the form refuses what it can already see is local ------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://localhost/hook",
    ],
)
@pytest.mark.django_db
def test_the_channel_form_refuses_a_local_address(
    allowance_off: None, network: LocalNetwork, target: str
) -> None:
    network.names["localhost"] = ["127.0.0.1", "::1"]
    form = ChannelForm({"account": "", "kind": "slack", "name": "x", "target": target})

    assert not form.is_valid()
    (message,) = form.errors["target"]
    assert "not allowed" in message
    assert "/hook" not in message


@pytest.mark.django_db
def test_the_channel_form_refuses_a_name_resolving_to_loopback_and_takes_a_public_one(
    allowance_off: None, network: LocalNetwork
) -> None:
    network.names["inside.example.org"] = ["127.0.0.1"]
    network.names["hooks.example.org"] = [PUBLIC_ADDRESS]

    refused = ChannelForm(
        {"account": "", "kind": "webhook", "name": "x", "target": "https://inside.example.org/h"}
    )
    taken = ChannelForm(
        {"account": "", "kind": "webhook", "name": "x", "target": "https://hooks.example.org/h"}
    )

    assert not refused.is_valid()
    assert "127.0.0.1" in refused.errors["target"][0]
    assert taken.is_valid(), taken.errors
    assert network.connections == []


def test_a_name_that_does_not_resolve_yet_is_taken_and_checked_when_sending(
    allowance_off: None, network: LocalNetwork
) -> None:
    assert targets.validate_target("slack", "https://new.example.org/h") == "https://new.example.org/h"


def test_plain_http_is_refused_when_saving_in_production(production_webhook_rules: None) -> None:
    with pytest.raises(ValidationError, match="https://"):
        targets.validate_target("webhook", "http://hooks.example.org/h")


def test_the_development_allowance_lets_only_its_own_networks_through(settings: Any) -> None:
    settings.PORTAL_WEBHOOK_ALLOW_HTTP = True
    settings.PORTAL_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]

    assert targets.validate_target("webhook", "http://127.0.0.1:8080/h") == "http://127.0.0.1:8080/h"
    with pytest.raises(ValidationError):
        targets.validate_target("webhook", "http://127.0.0.2:8080/h")
    with pytest.raises(ValidationError):
        targets.validate_target("webhook", "http://[::1]:8080/h")


# --- Settings -----------------------------------------------------------------------------------


def test_production_defaults_to_https_only_and_no_allowance(tmp_path: Any) -> None:
    code = """
        from django.conf import settings
        print(settings.PORTAL_WEBHOOK_ALLOW_HTTP, settings.PORTAL_WEBHOOK_ALLOWED_NETWORKS)
    """
    result = run_python(code, PRODUCTION_ENV, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "[]"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PORTAL_WEBHOOK_ALLOW_HTTP", "true"), ("PORTAL_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8")],
)
def test_production_refuses_to_start_with_a_development_allowance(
    tmp_path: Any, variable: str, value: str
) -> None:
    result = run_python("import portal.settings", {**PRODUCTION_ENV, variable: value}, tmp_path)

    assert result.returncode != 0
    assert f"ConfigurationError: {variable}" in result.stderr


def test_a_mistyped_network_stops_start_up(tmp_path: Any) -> None:
    env = {**PRODUCTION_ENV, "DJANGO_DEBUG": "true", "PORTAL_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/33"}
    result = run_python("import portal.settings", env, tmp_path)

    assert result.returncode != 0
    assert "ConfigurationError: PORTAL_WEBHOOK_ALLOWED_NETWORKS" in result.stderr
