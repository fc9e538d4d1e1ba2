"""Sign-ins, failed sign-ins, MFA changes and passwords are ledger entries with actor and request id,
and never hold a password, a TOTP secret or a code."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from ledger.models import LedgerEntry
from portal.policy import Role
from portal.testing import settled_totp_code, step_up, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a much longer new passphrase 42"


@pytest.fixture
def enrolling(make_persona: Any) -> Any:
    """A requester who has not set up MFA yet (every role needs it before using the portal)."""
    return make_persona("rita.enrolling", Role.REQUESTER, mfa=False)


def only(action: str) -> LedgerEntry:
    entries = list(LedgerEntry.objects.filter(action=action))
    assert len(entries) == 1, f"{action}: {len(entries)} entries"
    return entries[0]


def assert_no_secret(entry: LedgerEntry, *secrets: str) -> None:
    text = json.dumps(entry.data) + entry.target_repr + entry.actor_name
    for secret in secrets:
        assert secret not in text


def test_a_sign_in_is_recorded_with_the_person_and_the_request_id(enrolling: Any) -> None:
    response = Client().post(reverse("account_login"), {"login": enrolling.username, "password": PASSWORD})

    entry = only("auth.signed_in")
    assert entry.actor_id == enrolling.pk
    assert entry.target_id == str(enrolling.pk)
    assert entry.request_id == response["X-Request-ID"]
    assert entry.data["method"] == "password"
    assert_no_secret(entry, PASSWORD)


def test_a_sign_in_with_mfa_is_recorded_once_the_second_factor_is_given(approver: Any) -> None:
    client = Client()
    client.post(reverse("account_login"), {"login": approver.username, "password": PASSWORD})
    assert not LedgerEntry.objects.filter(action="auth.signed_in").exists()

    code = settled_totp_code(approver.totp_secret)
    client.post(reverse("mfa_authenticate"), {"code": code})

    entry = only("auth.signed_in")
    assert entry.actor_id == approver.pk
    assert_no_secret(entry, PASSWORD, code, approver.totp_secret)


def test_a_failed_sign_in_is_recorded_without_the_password(requester: Any) -> None:
    response = Client().post(
        reverse("account_login"), {"login": requester.username, "password": "wrong password 123"}
    )

    entry = only("auth.sign_in_failed")
    assert entry.actor_id is None
    assert entry.target_id == str(requester.pk)
    assert entry.request_id == response["X-Request-ID"]
    assert_no_secret(entry, "wrong password 123", PASSWORD)


def test_a_failed_sign_in_for_an_unknown_name_does_not_record_what_was_typed() -> None:
    # People type their password into the name field: what matches nobody is not written down.
    Client().post(reverse("account_login"), {"login": "hunter2-password", "password": "x"})

    entry = only("auth.sign_in_failed")
    assert entry.target_id == ""
    assert entry.data == {"known_account": False}
    assert_no_secret(entry, "hunter2-password")


def test_a_wrong_totp_code_is_recorded_without_the_code(approver: Any) -> None:
    client = Client()
    client.post(reverse("account_login"), {"login": approver.username, "password": PASSWORD})

    client.post(reverse("mfa_authenticate"), {"code": "123456"})

    entry = only("auth.mfa_failed")
    assert entry.target_id == str(approver.pk)
    assert_no_secret(entry, "123456", approver.totp_secret)


def reauthenticated(client: Client, user: Any, *, method: str) -> None:
    """A fresh re-authentication as allauth's own MFA pages want it (flagged ``reauthenticated``)."""
    step_up(client, user, method=method)
    session = client.session
    session["account_authentication_methods"][0]["reauthenticated"] = True
    session.save()


def test_adding_and_removing_totp_is_recorded_without_the_secret(
    client: Client, enrolling: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(enrolling)
    reauthenticated(client, enrolling, method="password")
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]
    code = totp_code(secret)

    # allauth announces the new authenticator once its transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert response.status_code == 302

    added = LedgerEntry.objects.filter(action="mfa.authenticator_added")
    assert {entry.data["type"] for entry in added} >= {"totp"}
    for entry in added:
        assert entry.actor_id == enrolling.pk
        assert_no_secret(entry, secret, code)

    reauthenticated(client, enrolling, method="mfa")
    client.post(reverse("mfa_deactivate_totp"))

    # Without TOTP the recovery codes go too: each removal is its own entry.
    removed = LedgerEntry.objects.filter(action="mfa.authenticator_removed")
    assert {entry.data["type"] for entry in removed} == {"totp", "recovery_codes"}
    assert {entry.actor_id for entry in removed} == {enrolling.pk}
    assert not Authenticator.objects.filter(user=enrolling, type=Authenticator.Type.TOTP).exists()


def test_changing_ones_password_is_recorded_without_it(client: Client, requester: Any) -> None:
    client.force_login(requester)
    step_up(client, requester, method="password")

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302

    entry = only("auth.password_changed")
    assert entry.actor_id == requester.pk
    assert entry.target_id == str(requester.pk)
    assert_no_secret(entry, PASSWORD, NEW_PASSWORD)


def test_a_password_reset_by_email_is_recorded_without_the_password(
    client: Client, requester: Any, mailoutbox: Any
) -> None:
    client.post(reverse("account_reset_password"), {"email": requester.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mailoutbox[0].body)
    assert link is not None
    form = client.get(link.group(1))
    assert form.status_code == 302

    client.post(form["Location"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    entry = only("auth.password_reset")
    assert entry.target_id == str(requester.pk)
    assert_no_secret(entry, NEW_PASSWORD, link.group(1))
    requester.refresh_from_db()
    assert requester.check_password(NEW_PASSWORD)


def test_signing_out_is_recorded(client: Client, requester: Any) -> None:
    client.force_login(requester)

    client.post(reverse("account_logout"))

    assert only("auth.signed_out").actor_id == requester.pk
