"""MFA enrolment per role, and the step-up rule."""

from __future__ import annotations

import time
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client, RequestFactory
from django.urls import reverse

from breakglass.adapters import PortalAccountAdapter
from portal import policy
from portal.identity import recently_stepped_up
from portal.policy import Role
from portal.testing import step_up

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.APPROVER, Role.CUSTODIAN, Role.AUDITOR, Role.ADMINISTRATOR])
def test_privileged_roles_are_sent_to_set_up_mfa_until_they_have_it(
    client: Client, make_persona: Any, role: Role
) -> None:
    person = make_persona("new.person", role, mfa=False)
    client.force_login(person)

    response = client.get(reverse("breakglass:account_list"))

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index") + "?required=1"
    # The enrolment pages themselves stay reachable.
    assert client.get(reverse("mfa_index")).status_code == 200


@pytest.mark.parametrize("role", [Role.APPROVER, Role.CUSTODIAN, Role.AUDITOR, Role.ADMINISTRATOR])
def test_privileged_roles_with_mfa_use_the_portal(client: Client, make_persona: Any, role: Role) -> None:
    client.force_login(make_persona("new.person", role))
    assert client.get(reverse("breakglass:account_list")).status_code == 200


def test_a_plain_requester_needs_mfa_too(client: Client, make_persona: Any) -> None:
    person = make_persona("new.requester", Role.REQUESTER, mfa=False)
    assert not Authenticator.objects.filter(user=person).exists()
    client.force_login(person)
    response = client.get(reverse("breakglass:account_list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index") + "?required=1"


def test_the_django_admin_is_also_behind_mfa(client: Client, make_persona: Any) -> None:
    admin = make_persona("root.admin", Role.ADMINISTRATOR, mfa=False)
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_index"))


def test_signing_in_to_the_admin_goes_through_allauth(client: Client) -> None:
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_without_mfa_a_privileged_person_may_not_use_the_portal(make_persona: Any) -> None:
    assert not policy.may_use_portal(make_persona("x", Role.AUDITOR, mfa=False))


def test_a_fresh_mfa_check_counts_as_step_up(client: Client, approver: Any, rf: RequestFactory) -> None:
    client.force_login(approver)
    step_up(client, approver, method="mfa")
    request = rf.get("/")
    request.user = approver
    request.session = client.session
    assert recently_stepped_up(request)


def test_a_stale_mfa_check_does_not_count(client: Client, approver: Any, rf: RequestFactory) -> None:
    client.force_login(approver)
    step_up(client, approver, method="mfa", at=time.time() - 301)
    request = rf.get("/")
    request.user = approver
    request.session = client.session
    assert not recently_stepped_up(request)


def test_a_password_alone_does_not_count_for_someone_with_mfa(
    client: Client, approver: Any, rf: RequestFactory
) -> None:
    client.force_login(approver)
    step_up(client, approver, method="password")
    request = rf.get("/")
    request.user = approver
    request.session = client.session
    assert not recently_stepped_up(request)


def test_a_password_does_not_count_for_someone_without_mfa(
    client: Client, make_persona: Any, rf: RequestFactory
) -> None:
    person = make_persona("new.requester", Role.REQUESTER, mfa=False)
    client.force_login(person)
    step_up(client, person, method="password")
    request = rf.get("/")
    request.user = person
    request.session = client.session
    assert not recently_stepped_up(request)


def test_re_authentication_offers_only_mfa_to_people_who_have_it(
    approver: Any, requester: Any, make_persona: Any
) -> None:
    adapter = PortalAccountAdapter()
    assert [m["id"] for m in adapter.get_reauthentication_methods(approver)] == ["mfa_reauthenticate"]
    assert [m["id"] for m in adapter.get_reauthentication_methods(requester)] == ["mfa_reauthenticate"]
    without = make_persona("no.mfa", mfa=False)
    assert "reauthenticate" in [m["id"] for m in adapter.get_reauthentication_methods(without)]


def test_nobody_can_sign_up_on_their_own(client: Client) -> None:
    response = client.get(reverse("account_signup"))
    assert b"Sign Up Closed" in response.content or response.status_code == 403


def test_a_forgotten_password_is_reset_by_email(client: Client, requester: Any, mailoutbox: Any) -> None:
    response = client.post(reverse("account_reset_password"), {"email": requester.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [requester.email]
    assert "/accounts/password/reset/key/" in mailoutbox[0].body


def test_security_keys_and_recovery_codes_are_offered_next_to_totp(client: Client, approver: Any) -> None:
    client.force_login(approver)
    page = client.get(reverse("mfa_index")).content.decode()
    assert reverse("mfa_add_webauthn") in page
    assert "Recovery Codes" in page
