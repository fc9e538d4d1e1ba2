"""Sign-in throttling that nobody can turn into a lock-out of someone else (issue 8, item 6).

Failures count per (person, client address) and per address, with tiers that back off; a burst
alerts the administrators. Before, five wrong passwords or TOTP codes for an approver's user name,
from any address, locked the real approver out, renewable forever.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from allauth.core.internal import ratelimit as allauth_ratelimit
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from breakglass.models import Notification
from breakglass.throttle import client_address
from conftest import PASSWORD
from ledger.models import LedgerEntry
from portal import checks
from portal.policy import Role
from portal.testing import settled_totp_code

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.66"
APPROVER_HOME = "203.0.113.10"
MFA_PROMPT = "/accounts/2fa/authenticate/"


@pytest.fixture(autouse=True)
def _empty_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """allauth's rate limits read the time through this clock, which tests move forward."""
    state = SimpleNamespace(now=time.time())
    fake = SimpleNamespace(time=lambda: state.now, monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(allauth_ratelimit, "time", fake)
    return state


def sign_in(client: Client, login: str, password: str, address: str) -> Any:
    return client.post(reverse("account_login"), {"login": login, "password": password}, REMOTE_ADDR=address)


def enter_code(client: Client, code: str, address: str) -> Any:
    return client.post(MFA_PROMPT, {"code": code}, REMOTE_ADDR=address)


def is_throttled(response: Any) -> bool:
    return response.status_code in (200, 429) and b"too many" in response.content.lower()


def test_wrong_passwords_from_one_address_do_not_stop_the_approver_from_another(approver: Any) -> None:
    attacker = Client()
    for _ in range(8):
        sign_in(attacker, approver.username, "not the password", ATTACKER)

    response = sign_in(Client(), approver.username, PASSWORD, APPROVER_HOME)

    assert response.status_code == 302
    assert response["Location"] == MFA_PROMPT


def test_the_attackers_own_address_stays_throttled_for_that_person(approver: Any) -> None:
    attacker = Client()
    for _ in range(5):
        sign_in(attacker, approver.username, "not the password", ATTACKER)

    # Even the right password is refused from there until the wait is over: no free guesses.
    assert is_throttled(sign_in(attacker, approver.username, PASSWORD, ATTACKER))


def test_the_right_code_after_five_wrong_ones_from_another_address_is_accepted(approver: Any) -> None:
    # Someone who knows the approver's password guesses TOTP codes.
    attacker = Client()
    assert sign_in(attacker, approver.username, PASSWORD, ATTACKER)["Location"] == MFA_PROMPT
    for _ in range(5):
        enter_code(attacker, "000000", ATTACKER)
    assert is_throttled(enter_code(attacker, "000000", ATTACKER))

    approver_client = Client()
    assert sign_in(approver_client, approver.username, PASSWORD, APPROVER_HOME)["Location"] == MFA_PROMPT
    response = enter_code(approver_client, settled_totp_code(approver.totp_secret), APPROVER_HOME)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_a_burst_from_one_address_backs_off_ever_longer(clock: SimpleNamespace, settings: Any) -> None:
    settings.PORTAL_SIGNIN_BURST_FAILURES = 1000  # the alert is another test's subject
    attacker = Client()

    def try_names(count: int) -> list[bool]:
        return [is_throttled(sign_in(attacker, f"guess{n}", "x", ATTACKER)) for n in range(count)]

    # First tier: ten a minute, then a minute's wait.
    assert try_names(10) == [False] * 10
    assert try_names(1) == [True]
    clock.now += 61
    assert try_names(10) == [False] * 10
    clock.now += 61
    assert try_names(10) == [False] * 10
    clock.now += 61
    # Second tier: thirty in fifteen minutes, then a wait of up to fifteen minutes.
    assert try_names(1) == [True]
    clock.now += 5 * 60
    assert try_names(1) == [True]
    clock.now += 15 * 60
    assert try_names(1) == [False]
    # Another address is not slowed by this one.
    assert not is_throttled(sign_in(Client(), "someone", "x", APPROVER_HOME))


def test_a_burst_raises_one_alert_to_the_administrators(
    clock: SimpleNamespace, settings: Any, make_persona: Any
) -> None:
    settings.PORTAL_SIGNIN_BURST_FAILURES = 5
    administrator = make_persona("ada.admin", Role.ADMINISTRATOR)
    attacker = Client()

    for n in range(4):
        sign_in(attacker, f"guess{n}", "x", ATTACKER)
    assert not LedgerEntry.objects.filter(action="signin.burst").exists()

    for n in range(4, 9):
        sign_in(attacker, f"guess{n}", "x", ATTACKER)

    entry = LedgerEntry.objects.get(action="signin.burst")
    assert entry.data["address"] == ATTACKER
    assert entry.data["scope"] == "address"
    alert = Notification.objects.get(recipient=administrator, event="finding.alert")
    assert ATTACKER in alert.body


def test_failures_against_one_person_from_many_addresses_also_alert(approver: Any, settings: Any) -> None:
    settings.PORTAL_SIGNIN_BURST_FAILURES = 5
    for n in range(6):
        sign_in(Client(), approver.username, "not the password", f"198.51.100.{n + 1}")

    entry = LedgerEntry.objects.get(action="signin.burst")
    assert entry.data["scope"] == "person"
    assert entry.data["login"] == approver.username
    # The approver is not locked out by it.
    assert sign_in(Client(), approver.username, PASSWORD, APPROVER_HOME)["Location"] == MFA_PROMPT


def test_an_overlong_typed_user_name_is_bounded_in_the_alert(settings: Any) -> None:
    settings.PORTAL_SIGNIN_BURST_FAILURES = 2
    name = "x" * 250 + "@example.com"
    for _ in range(3):
        sign_in(Client(), name, "not the password", ATTACKER)

    entry = LedgerEntry.objects.get(action="signin.burst", data__scope="person")
    assert entry.target_id == name[:100]


def test_the_deploy_check_asks_for_the_proxy_count_behind_a_tls_proxy(settings: Any) -> None:
    # Behind a proxy that is not declared, every client has the proxy's address: one address's
    # throttle would slow everybody down.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PORTAL_TRUSTED_PROXY_COUNT = 0
    assert [warning.id for warning in checks.trusted_proxy_declared(None)] == ["portal.W002"]

    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    assert checks.trusted_proxy_declared(None) == []


def test_the_client_address_comes_from_the_trusted_proxy(rf: Any, settings: Any) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    request = rf.post("/", HTTP_X_FORWARDED_FOR="10.9.9.9, 192.0.2.7", REMOTE_ADDR="10.0.0.2")
    assert client_address(request) == "192.0.2.7"

    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.2"
