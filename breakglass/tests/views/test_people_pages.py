"""People and roles pages: administrators add people to roles (step-up) and remove them (a
confirmation page and step-up), never the last administrator; auditors read; everyone keeps their
own phone number on their profile page (step-up to change it); each change is in the ledger."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from breakglass.people_models import PersonProfile, phone_of
from ledger.models import LedgerEntry
from portal import policy
from portal.policy import Role
from portal.testing import step_up

pytestmark = pytest.mark.django_db

INDEX = reverse("people:people_index")
ADD = reverse("people:role_member_add")
PROFILE = reverse("people:my_profile")


def _remove_url(person: Any, role: Role) -> str:
    return reverse("people:role_member_remove", kwargs={"username": person.username, "role": role.value})


def _holds(person: Any, role: Role) -> bool:
    policy.forget_roles(person)
    return person.groups.filter(name=role.value).exists()


@pytest.fixture
def admin(client: Client, administrator: Any) -> Client:
    client.force_login(administrator)
    step_up(client, administrator)
    return client


def test_the_index_lists_each_roles_members_with_their_phone(
    admin: Client, custodian: Any, requester: Any
) -> None:
    PersonProfile.objects.create(user=custodian, phone="+1 555 0101")
    page = admin.get(INDEX).content.decode()
    assert 'id="role-custodian"' in page
    assert "carl.custodian" in page
    assert 'href="tel:+15550101"' in page
    assert "Add to approvers" in page


def test_an_administrator_adds_a_person_to_a_role_and_it_is_ledgered(
    admin: Client, administrator: Any, requester: Any
) -> None:
    response = admin.post(ADD, {"username": "rita.requester", "role": "Approver"})
    assert response["Location"] == INDEX
    assert _holds(requester, Role.APPROVER)
    entry = LedgerEntry.objects.filter(action="user.roles_changed").latest("sequence")
    assert entry.actor_id == administrator.pk
    assert entry.data["roles_gained"] == ["Approver"]
    assert entry.data["source"] == "portal people page"


def test_adding_without_a_fresh_second_factor_is_sent_to_step_up(
    client: Client, administrator: Any, requester: Any
) -> None:
    client.force_login(administrator)
    response = client.post(ADD, {"username": "rita.requester", "role": "Approver"})
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not _holds(requester, Role.APPROVER)


def test_an_unknown_username_is_said_and_changes_nothing(admin: Client) -> None:
    response = admin.post(ADD, {"username": "nobody.here", "role": "Approver"}, follow=True)
    assert "Nobody active has the username" in response.content.decode()
    assert not LedgerEntry.objects.filter(action="user.roles_changed").exists()


def test_removing_asks_for_confirmation_naming_the_person_and_accounts(
    admin: Client, custodian: Any, account: Any
) -> None:
    url = _remove_url(custodian, Role.CUSTODIAN)
    page = admin.get(url).content.decode()
    assert "carl.custodian" in page
    assert "payments-prod" in page  # the accounts they keep
    unconfirmed = admin.post(url)
    assert unconfirmed.status_code == 200
    assert _holds(custodian, Role.CUSTODIAN)

    admin.post(url, {"confirmed": "yes"})

    assert not _holds(custodian, Role.CUSTODIAN)
    entry = LedgerEntry.objects.filter(action="user.roles_changed").latest("sequence")
    assert entry.data["changes"]["groups"] == {"from": ["Custodian"], "to": []}


def test_a_confirmed_removal_without_a_fresh_second_factor_removes_nothing(
    client: Client, administrator: Any, custodian: Any
) -> None:
    client.force_login(administrator)
    response = client.post(_remove_url(custodian, Role.CUSTODIAN), {"confirmed": "yes"})
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert _holds(custodian, Role.CUSTODIAN)


def test_the_last_administrator_cannot_remove_themself(admin: Client, administrator: Any) -> None:
    response = admin.post(_remove_url(administrator, Role.ADMINISTRATOR), {"confirmed": "yes"}, follow=True)
    assert "the last administrator" in response.content.decode()
    assert _holds(administrator, Role.ADMINISTRATOR)


def test_with_another_administrator_one_may_step_down(
    admin: Client, administrator: Any, make_persona: Any
) -> None:
    make_persona("abe.admin", Role.ADMINISTRATOR)
    page = admin.get(_remove_url(administrator, Role.ADMINISTRATOR)).content.decode()
    assert "You are removing yourself" in page
    response = admin.post(_remove_url(administrator, Role.ADMINISTRATOR), {"confirmed": "yes"})
    assert response["Location"] == reverse("home")
    assert not _holds(administrator, Role.ADMINISTRATOR)


def test_an_auditor_reads_the_pages_but_changes_nothing(client: Client, auditor: Any, custodian: Any) -> None:
    client.force_login(auditor)
    step_up(client, auditor)
    page = client.get(INDEX).content.decode()
    assert "carl.custodian" in page
    assert "Remove…" not in page
    assert client.post(ADD, {"username": "carl.custodian", "role": "Administrator"}).status_code == 403
    assert client.post(_remove_url(custodian, Role.CUSTODIAN), {"confirmed": "yes"}).status_code == 403
    detail = reverse("people:person_detail", kwargs={"username": "carl.custodian"})
    client.post(detail, {"phone": "+1 555 0199"})
    assert phone_of(custodian) == ""
    assert not Group.objects.get(name="Administrator").user_set.filter(pk=custodian.pk).exists()


def test_an_administrator_sets_someones_phone_on_their_page(
    admin: Client, administrator: Any, custodian: Any
) -> None:
    detail = reverse("people:person_detail", kwargs={"username": "carl.custodian"})
    admin.post(detail, {"phone": "+1 555 0101"})
    custodian.refresh_from_db()
    assert PersonProfile.objects.get(user=custodian).phone == "+1 555 0101"
    entry = LedgerEntry.objects.get(action="person.phone_changed")
    assert entry.actor_id == administrator.pk
    assert entry.data == {"user": "carl.custodian", "change": "added", "by_self": False}
    assert "555" not in str(entry.data)


def test_everyone_sets_their_own_phone_after_a_fresh_second_factor(client: Client, custodian: Any) -> None:
    client.force_login(custodian)
    assert client.get(PROFILE).status_code == 200
    response = client.post(PROFILE, {"phone": "+1 555 0101"})
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not PersonProfile.objects.filter(user=custodian, phone="+1 555 0101").exists()

    step_up(client, custodian)
    client.post(PROFILE, {"phone": "+1 555 0101"})
    assert PersonProfile.objects.get(user=custodian).phone == "+1 555 0101"
    assert LedgerEntry.objects.get(action="person.phone_changed").data["by_self"] is True

    bad = client.post(PROFILE, {"phone": "call me maybe"})
    assert "A phone number" in bad.content.decode()
    assert PersonProfile.objects.get(user=custodian).phone == "+1 555 0101"


def test_the_navigation_links_administration_for_administrators_and_auditors_only(
    admin: Client, requester: Any
) -> None:
    page = admin.get(reverse("administration")).content.decode()
    assert f'href="{reverse("administration")}"' in page
    for name in ("people:people_index", "audits:source_list", "channels:channel_list"):
        assert f'href="{reverse(name)}"' in page
    admin.force_login(requester)
    home = admin.get(reverse("home")).content.decode()
    assert f'href="{reverse("administration")}"' not in home
    assert f'href="{PROFILE}"' in home
    assert admin.get(reverse("administration")).status_code == 403


def test_removing_a_role_the_person_does_not_hold_says_so_and_records_nothing(
    admin: Client, requester: Any
) -> None:
    response = admin.get(_remove_url(requester, Role.AUDITOR), follow=True)
    assert "is not auditor" in response.content.decode()
    assert not LedgerEntry.objects.filter(action="user.roles_changed").exists()


def test_a_crafted_removal_link_names_nothing_it_was_not_on_the_step_up_page(
    client: Client, administrator: Any
) -> None:
    client.force_login(administrator)
    crafted = reverse("people:role_member_remove", kwargs={"username": "Wire the money", "role": "Approver"})
    assert client.get(crafted).status_code == 404
    bad_role = reverse("people:role_member_remove", kwargs={"username": "ada.admin", "role": "Boss"})
    assert client.get(bad_role).status_code == 404
