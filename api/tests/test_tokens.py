"""The life of a personal token: made on a page behind step-up, shown once, kept as a digest, scoped
to what its person's roles allow, expiring, revocable, its last use noted; each step in the ledger.
And a token acts as its person as they are at each call."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api import services
from api.choices import Scope
from api.models import ApiToken
from api.tests.conftest import ApiClient
from ledger.models import LedgerEntry
from portal.errors import DomainError
from portal.policy import Role
from portal.testing import step_up

pytestmark = pytest.mark.django_db

TOKENS = reverse("api:token_list")
NEW = reverse("api:token_create")
ACCOUNTS = "/api/v1/accounts"
TOKEN_IN_PAGE = re.compile(r'value="(bgp_[0-9a-f]{12}_[A-Za-z0-9_-]+)"')


def _signed_in(user: Any, *, stepped_up: bool) -> Client:
    client = Client()
    client.force_login(user)
    if stepped_up:
        step_up(client, user)
    return client


def test_making_a_token_asks_for_a_fresh_second_factor(requester: Any) -> None:
    client = _signed_in(requester, stepped_up=False)
    for response in (client.get(NEW), client.post(NEW, {"name": "x", "scopes": ["read:inventory"]})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not ApiToken.objects.exists()


def test_a_token_is_shown_once_and_kept_only_as_its_digest(requester: Any) -> None:
    client = _signed_in(requester, stepped_up=True)
    response = client.post(
        NEW, {"name": "ticketing", "scopes": ["read:inventory", "write:requests"], "expires_in_days": 30}
    )
    assert response.status_code == 200
    [plaintext] = TOKEN_IN_PAGE.findall(response.content.decode())
    assert response["Cache-Control"] == "no-store"

    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext.split("_")[1] == token.prefix
    secret = plaintext.split("_", 2)[2]
    stored = [str(value) for value in ApiToken.objects.values_list().get()]
    assert not [value for value in stored if secret in value]
    assert sorted(token.scopes) == ["read:inventory", "write:requests"]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)

    # Never again: not on the list, not in the session, not in the ledger.
    listing = client.get(TOKENS).content.decode()
    assert token.prefix in listing
    assert secret not in listing
    assert secret not in str(dict(client.session))
    entry = LedgerEntry.objects.get(action="api_token.created")
    assert entry.actor_id == requester.pk
    assert entry.data["prefix"] == token.prefix
    assert entry.data["scopes"] == ["read:inventory", "write:requests"]
    assert secret not in str(entry.data)

    # And it works.
    assert ApiClient(plaintext).get(ACCOUNTS).status_code == 200


def test_the_form_offers_and_the_service_allows_only_the_scopes_of_the_persons_roles(requester: Any) -> None:
    client = _signed_in(requester, stepped_up=True)
    page = client.get(NEW).content.decode()
    assert 'value="read:inventory"' in page
    assert 'value="triage:findings"' not in page
    assert 'value="export:reports"' not in page
    response = client.post(NEW, {"name": "sneaky", "scopes": ["triage:findings"], "expires_in_days": 5})
    assert response.status_code == 200
    assert "triage:findings is not one of the available choices" in response.content.decode()

    with pytest.raises(DomainError, match="do not allow export:reports"):
        services.api_token_create(
            user=requester, name="x", scopes=["export:reports"], expires_at=timezone.now() + timedelta(days=1)
        )
    assert not ApiToken.objects.exists()


def test_a_token_runs_at_most_the_configured_days(requester: Any, settings: Any) -> None:
    settings.PORTAL_API_TOKEN_MAX_DAYS = 7
    client = _signed_in(requester, stepped_up=True)
    response = client.post(NEW, {"name": "long", "scopes": ["read:inventory"], "expires_in_days": 8})
    assert "A token runs at most 7 days." in response.content.decode()
    assert not ApiToken.objects.exists()
    with pytest.raises(DomainError):
        services.api_token_create(
            user=requester,
            name="x",
            scopes=["read:inventory"],
            expires_at=timezone.now() + timedelta(days=7, minutes=1),
        )


def test_an_expired_token_stops_working(requester: Any, make_token: Callable[..., str]) -> None:
    token = make_token(requester, Scope.READ_INVENTORY)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = ApiClient(token).get(ACCOUNTS)
    assert response.status_code == 401
    assert response.json()["detail"] == "The token expired."


def test_revoking_a_token_on_the_page_ends_it_and_is_in_the_ledger(
    requester: Any, make_token: Callable[..., str]
) -> None:
    plaintext = make_token(requester, Scope.READ_INVENTORY)
    token = ApiToken.objects.get()
    client = _signed_in(requester, stepped_up=False)  # ending access needs no step-up
    response = client.post(reverse("api:token_revoke", kwargs={"uuid": token.uuid}))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == requester
    assert ApiClient(plaintext).get(ACCOUNTS).json()["detail"] == "The token was revoked."
    entry = LedgerEntry.objects.get(action="api_token.revoked")
    assert (entry.actor_id, entry.target_id) == (requester.pk, str(token.uuid))


def test_nobody_but_the_owner_or_an_administrator_can_revoke_a_token(
    requester: Any, approver: Any, administrator: Any, make_token: Callable[..., str]
) -> None:
    make_token(requester, Scope.READ_INVENTORY)
    token = ApiToken.objects.get()
    url = reverse("api:token_revoke", kwargs={"uuid": token.uuid})
    assert _signed_in(approver, stepped_up=True).post(url).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None

    admin = _signed_in(administrator, stepped_up=False)
    assert token.prefix in admin.get(TOKENS).content.decode()  # listed for the administrator
    assert admin.post(url).status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == administrator


def test_the_last_use_is_noted_once_a_minute_at_most(requester: Any, make_token: Callable[..., str]) -> None:
    client = ApiClient(make_token(requester, Scope.READ_INVENTORY))
    assert ApiToken.objects.get().last_used_at is None
    client.get(ACCOUNTS)
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    client.get(ACCOUNTS)
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    client.get(ACCOUNTS)
    assert ApiToken.objects.get().last_used_at > first - timedelta(minutes=1)  # type: ignore[operator]


# --- the token is its person, as they are now --------------------------------------------------------


def test_a_person_who_loses_a_role_loses_it_through_the_token(
    auditor: Any, make_token: Callable[..., str]
) -> None:
    client = ApiClient(make_token(auditor, Scope.READ_FINDINGS))
    assert client.get("/api/v1/ingestion-runs").status_code == 200
    auditor.groups.remove(Group.objects.get(name=Role.AUDITOR.value))
    auditor.groups.add(Group.objects.get_or_create(name=Role.APPROVER.value)[0])
    response = client.get("/api/v1/ingestion-runs")  # approvers see findings, not runs
    assert response.status_code == 403
    assert response.json()["detail"] == "The token's owner is not allowed to do this."


def test_a_person_without_any_role_or_without_mfa_can_do_nothing_through_a_token(
    requester: Any, make_token: Callable[..., str]
) -> None:
    from allauth.mfa.models import Authenticator

    client = ApiClient(make_token(requester, Scope.READ_INVENTORY))
    Authenticator.objects.filter(user=requester).delete()
    assert client.get(ACCOUNTS).status_code == 403
    requester.groups.clear()
    response = client.get(ACCOUNTS)
    assert response.status_code == 403
    assert "no role in the portal, or has no MFA" in response.json()["detail"]


def test_a_deactivated_persons_tokens_stop_working(requester: Any, make_token: Callable[..., str]) -> None:
    client = ApiClient(make_token(requester, Scope.READ_INVENTORY))
    requester.is_active = False
    requester.save()
    response = client.get(ACCOUNTS)
    assert response.status_code == 401
    assert response.json()["detail"] == "The token's owner is no longer active."


def test_everyone_elses_tokens_page_on_their_own_cursor(
    client: Client, administrator: Any, make_persona: Callable[..., Any]
) -> None:
    people = [make_persona(f"tool.owner{n:02d}", Role.REQUESTER) for n in range(52)]
    for person in people:
        services.api_token_create(
            user=person,
            name="ci",
            scopes=[Scope.READ_INVENTORY],
            expires_at=timezone.now() + timedelta(days=5),
        )
    client.force_login(administrator)
    url = reverse("api:token_list")

    first = client.get(url)
    others = first.context["others"]
    second = client.get(url, {"others": others.next_cursor})

    owners = [t.user.username for t in others] + [t.user.username for t in second.context["others"]]
    assert sorted(owners) == sorted(person.username for person in people)
    assert len(others) == 50
    assert f"others={others.next_cursor}" in first.content.decode()
