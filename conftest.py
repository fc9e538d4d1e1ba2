"""Persona fixtures shared by every app's tests.

Each persona is a real user in the role's group; everyone holding a role (every role demands MFA)
has a TOTP authenticator, whose secret is on ``user.totp_secret`` so tests can compute codes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from breakglass.tests.factories import UserFactory
from portal.policy import Role
from portal.testing import enrol_totp, step_up

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM use there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2's deliberate slowness is for production, not for thousands of test logins."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache, as each starts with an empty database: the cache holds
    figures computed from another test's rows (the overview), rate-limit counters and used TOTP codes."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_ledger_triggers() -> Any:
    """Let pytest-django empty the database after transactional tests.

    The ledger's PostgreSQL triggers refuse TRUNCATE, which is what Django's flush uses; test
    teardown alone may skip ordinary triggers (``session_replication_role = replica``).
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self: Any, *args: Any, **kwargs: Any) -> list[str]:
        statements = original(self, *args, **kwargs)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]
    yield
    DatabaseOperations.sql_flush = original  # type: ignore[method-assign]


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Celery tasks run where they are queued, after the commit as a worker would run them. Set on
    the app's own configuration: the ``settings`` fixture alone does not reach an app already made."""
    from portal.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


@pytest.fixture
def signed_in() -> Callable[..., Client]:
    """A browser-less client signed in as ``user``, optionally just re-authenticated."""

    def sign_in(user: Any, *, stepped_up: bool = False) -> Client:
        client = Client()
        client.force_login(user)
        if stepped_up:
            step_up(client, user, method="mfa" if user.totp_secret else "password")
        return client

    return sign_in


@pytest.fixture
def make_persona(db: Any) -> Callable[..., Any]:
    def make(username: str, *roles: Role, mfa: bool | None = None) -> Any:
        user = UserFactory(username=username)
        for role in roles:
            # get_or_create: transactional tests flush the groups the migration created.
            user.groups.add(Group.objects.get_or_create(name=role.value)[0])
        # Every role needs MFA (portal.policy.MFA_REQUIRED_ROLES); a person without a role has none.
        needs_mfa = bool(roles) if mfa is None else mfa
        user.totp_secret = enrol_totp(user) if needs_mfa else None
        return user

    return make


@pytest.fixture
def requester(make_persona: Callable[..., Any]) -> Any:
    return make_persona("rita.requester", Role.REQUESTER)


@pytest.fixture
def approver(make_persona: Callable[..., Any]) -> Any:
    return make_persona("alan.approver", Role.APPROVER)


@pytest.fixture
def second_approver(make_persona: Callable[..., Any]) -> Any:
    return make_persona("anna.approver", Role.APPROVER)


@pytest.fixture
def custodian(make_persona: Callable[..., Any]) -> Any:
    return make_persona("carl.custodian", Role.CUSTODIAN)


@pytest.fixture
def auditor(make_persona: Callable[..., Any]) -> Any:
    return make_persona("audrey.auditor", Role.AUDITOR)


@pytest.fixture
def administrator(make_persona: Callable[..., Any]) -> Any:
    return make_persona("ada.admin", Role.ADMINISTRATOR)


@pytest.fixture
def outsider(make_persona: Callable[..., Any]) -> Any:
    """Signed in, but holds no role in the portal."""
    return make_persona("oscar.outsider", mfa=False)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium (Playwright's own browser download is not available here)."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }
