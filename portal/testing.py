"""Helpers shared by tests and the demo seed: TOTP enrolment and codes for personas."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, cast

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.auth.models import AbstractBaseUser


def enrol_totp(user: AbstractBaseUser, secret: str | None = None) -> str:
    """Give ``user`` a TOTP authenticator (replacing any) and return its base32 secret."""
    secret = secret or generate_totp_secret()
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str, *, at: float | None = None) -> str:
    """The six-digit code an authenticator app would show for ``secret`` now (or at ``at``)."""
    counter = int((time.time() if at is None else at) // 30)
    return cast(str, format_hotp_value(hotp_value(secret, counter)))  # allauth is untyped


def step_up(client: Any, user: AbstractBaseUser, *, method: str = "mfa", at: float | None = None) -> None:
    """Record in ``client``'s session that ``user`` just authenticated by ``method``.

    This is what allauth writes after a password or MFA check, so step-up protected views see a
    fresh re-authentication without the test driving the forms (browser tests drive them).
    """
    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )
    from allauth.account.internal.userkit import user_id_to_str

    session = client.session
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = user_id_to_str(user)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": method, "at": time.time() if at is None else at, "type": "totp"}
    ]
    session.save()


def settled_totp_code(secret: str, *, margin: float = 4.0) -> str:
    """A code that is still valid when the server checks it: waits out the last ``margin``
    seconds of a 30-second window (the server accepts no neighbouring window)."""
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.2)
    return totp_code(secret)


def race(*actions: Callable[[], Any], timeout: float = 120) -> tuple[list[Any], list[BaseException]]:
    """Run ``actions`` in threads released at the same moment; return their results and errors.

    Each thread closes its own database connection, so concurrency tests on PostgreSQL leave none
    behind for the test database's teardown.
    """
    from django.db import connection

    barrier = threading.Barrier(len(actions))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(action: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcome = action()
            with lock:
                results.append(outcome)
        except BaseException as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a racing thread did not finish"
    return results, errors
