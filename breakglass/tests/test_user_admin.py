"""The Django admin's people, groups and authenticators: step-up, ledger entries, no MFA secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from breakglass.models import Notification
from breakglass.tests.factories import AwsAccountFactory
from ledger.models import LedgerEntry
from portal.policy import Role
from portal.testing import step_up

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "an entirely new passphrase 9"


@pytest.fixture
def administrator(make_persona: Any) -> Any:
    person = make_persona("ada.admin", Role.ADMINISTRATOR)
    person.is_staff = person.is_superuser = True
    person.save()
    return person


@pytest.fixture
def admin_client(client: Client, administrator: Any) -> Client:
    client.force_login(administrator)
    step_up(client, administrator, method="mfa")
    return client


def change_form(user: Any, **changes: Any) -> dict[str, Any]:
    """The POST of the admin's user change form, as the browser sends it unchanged, plus ``changes``."""
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "groups": [group.pk for group in user.groups.all()],
        "user_permissions": [],
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
    }
    for flag in ("is_active", "is_staff", "is_superuser"):
        if getattr(user, flag):
            data[flag] = "on"
    for flag, value in changes.items():
        if flag.startswith("is_") and not value:
            data.pop(flag, None)
        else:
            data[flag] = "on" if value is True else value
    return data


def user_change_url(user: Any) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def test_the_admin_never_shows_a_totp_secret(admin_client: Client, approver: Any) -> None:
    authenticator = Authenticator.objects.get(user=approver, type=Authenticator.Type.TOTP)
    sealed = authenticator.data["secret"]

    pages = [
        admin_client.get(reverse("admin:mfa_authenticator_changelist")),
        admin_client.get(reverse("admin:mfa_authenticator_change", args=[authenticator.pk])),
    ]

    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert approver.totp_secret not in text
        assert sealed not in text
        assert "sealed:" not in text


def test_promoting_someone_to_approver_is_recorded_and_announced(
    admin_client: Client, administrator: Any, requester: Any, make_persona: Any
) -> None:
    other_administrator = make_persona("otto.admin", Role.ADMINISTRATOR)
    approver_group = Group.objects.get_or_create(name=Role.APPROVER.value)[0]
    groups = [*requester.groups.values_list("pk", flat=True), approver_group.pk]

    response = admin_client.post(user_change_url(requester), change_form(requester, groups=groups))

    assert response.status_code == 302
    entry = LedgerEntry.objects.get(action="user.roles_changed", target_id=str(requester.pk))
    assert entry.actor_id == administrator.pk
    assert entry.request_id == response["X-Request-ID"]
    assert entry.data["changes"]["groups"] == {"from": ["Requester"], "to": ["Approver", "Requester"]}
    assert entry.data["roles_gained"] == ["Approver"]
    assert entry.data["source"] == "Django admin"
    told = list(Notification.objects.filter(event="role.granted"))
    # The other administrators hear of it, not the one who did it.
    assert [n.recipient for n in told] == [other_administrator]


def test_making_someone_superuser_staff_or_inactive_is_recorded(
    admin_client: Client, administrator: Any, requester: Any
) -> None:
    admin_client.post(user_change_url(requester), change_form(requester, is_superuser=True, is_staff=True))
    requester.refresh_from_db()
    admin_client.post(user_change_url(requester), change_form(requester, is_active=False))

    entries = list(LedgerEntry.objects.filter(action="user.roles_changed").order_by("sequence"))
    assert [sorted(entry.data["changes"]) for entry in entries] == [
        ["is_staff", "is_superuser"],
        ["is_active"],
    ]
    assert entries[0].data["roles_gained"] == ["Administrator"]
    assert entries[1].data["changes"]["is_active"] == {"from": True, "to": False}


def test_an_unchanged_save_writes_nothing(admin_client: Client, requester: Any) -> None:
    admin_client.post(user_change_url(requester), change_form(requester, first_name="Rita"))
    assert not LedgerEntry.objects.filter(action="user.roles_changed").exists()


def test_changing_someone_needs_a_fresh_second_factor(
    client: Client, administrator: Any, requester: Any
) -> None:
    client.force_login(administrator)  # signed in long ago: no recent step-up
    approver_group = Group.objects.get_or_create(name=Role.APPROVER.value)[0]

    page = client.get(user_change_url(requester))
    posted = client.post(user_change_url(requester), change_form(requester, groups=[approver_group.pk]))

    # An administrator has MFA, so the re-authentication asked for is MFA's.
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("mfa_reauthenticate"))
    assert posted.status_code == 302
    assert posted["Location"].startswith(reverse("mfa_reauthenticate"))
    assert list(requester.groups.values_list("name", flat=True)) == ["Requester"]
    assert not LedgerEntry.objects.filter(action="user.roles_changed").exists()


def test_setting_a_password_in_the_admin_is_recorded_without_it(
    admin_client: Client, administrator: Any, requester: Any
) -> None:
    url = reverse("admin:auth_user_password_change", args=[requester.pk])

    response = admin_client.post(
        url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )

    assert response.status_code == 302
    requester.refresh_from_db()
    assert requester.check_password(NEW_PASSWORD)
    entry = LedgerEntry.objects.get(action="user.password_set")
    assert entry.actor_id == administrator.pk
    assert entry.target_id == str(requester.pk)
    assert NEW_PASSWORD not in json.dumps(entry.data)


def test_a_password_posted_without_step_up_is_dropped_not_kept(
    client: Client, administrator: Any, requester: Any
) -> None:
    client.force_login(administrator)
    url = reverse("admin:auth_user_password_change", args=[requester.pk])

    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == url
    requester.refresh_from_db()
    assert not requester.check_password(NEW_PASSWORD)
    assert NEW_PASSWORD not in json.dumps(dict(client.session))


def test_adding_a_person_in_the_admin_is_recorded(admin_client: Client, administrator: Any) -> None:
    response = admin_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "new.person",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    entry = LedgerEntry.objects.get(action="user.created")
    assert entry.actor_id == administrator.pk
    assert entry.data["user"] == "new.person"
    assert NEW_PASSWORD not in json.dumps(entry.data)


def test_deleting_a_person_in_the_admin_is_recorded(
    admin_client: Client, administrator: Any, make_persona: Any
) -> None:
    leaver = make_persona("leo.leaver", Role.AUDITOR)
    Authenticator.objects.filter(user=leaver).delete()

    admin_client.post(reverse("admin:auth_user_delete", args=[leaver.pk]), {"post": "yes"})

    entry = LedgerEntry.objects.get(action="user.deleted")
    assert entry.data["user"] == "leo.leaver"
    assert entry.data["changes"]["groups"] == {"from": ["Auditor"], "to": []}


def test_a_role_group_cannot_be_renamed_and_its_permission_changes_are_recorded(
    admin_client: Client, administrator: Any
) -> None:
    group = Group.objects.get_or_create(name=Role.APPROVER.value)[0]
    permission = Permission.objects.get(codename="view_awsaccount")

    response = admin_client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "Not approvers any more", "permissions": [permission.pk]},
    )

    assert response.status_code == 302
    group.refresh_from_db()
    assert group.name == Role.APPROVER.value
    entry = LedgerEntry.objects.get(action="group.changed")
    assert entry.actor_id == administrator.pk
    assert entry.data["changes"] == {"permissions": {"from": [], "to": ["breakglass.view_awsaccount"]}}


def test_removing_someones_authenticator_in_the_admin_needs_step_up_and_is_recorded(
    admin_client: Client, administrator: Any, approver: Any
) -> None:
    authenticator = Authenticator.objects.get(user=approver, type=Authenticator.Type.TOTP)

    admin_client.post(reverse("admin:mfa_authenticator_delete", args=[authenticator.pk]), {"post": "yes"})

    assert not Authenticator.objects.filter(pk=authenticator.pk).exists()
    entry = LedgerEntry.objects.get(action="mfa.authenticator_removed")
    assert entry.actor_id == administrator.pk
    assert entry.target_id == str(approver.pk)
    assert entry.data == {"type": "totp", "source": "Django admin"}


def test_per_account_approvers_and_custodians_cannot_be_changed_in_the_admin(
    admin_client: Client, approver: Any
) -> None:
    account = AwsAccountFactory()

    response = admin_client.post(
        reverse("admin:breakglass_awsaccount_change", args=[account.pk]), {"approvers": [approver.pk]}
    )

    assert response.status_code == 403
    assert not account.approvers.exists()
