"""Who hears about each event: people once each, by role on the account, and the channels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group

from breakglass.models import AccessRequest, Approval, NotificationChannel
from breakglass.notifications import audience
from breakglass.notifications.messages import EVENTS
from breakglass.tests.factories import AwsAccountFactory, UserFactory
from portal.policy import Role

pytestmark = pytest.mark.django_db


def people(event: str, request: AccessRequest, actor: Any = None) -> list[str]:
    return [user.username for user in audience.event_people(EVENTS[event], request=request, actor=actor)]


def channels(event: str, request: AccessRequest) -> list[str]:
    return sorted(channel.name for channel in audience.event_channels(EVENTS[event], request=request))


def test_a_new_request_reaches_the_approvers_and_the_account_channels_but_not_the_requester(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    second_approver: Any,
    custodian: Any,
    account: Any,
    channels_of: dict[str, NotificationChannel],
) -> None:
    # Even listed as an approver, the requester does not hear about their own request.
    account.approvers.add(second_approver, requester)
    request = make_request()

    assert people("request.created", request, requester) == ["alan.approver", "anna.approver"]
    assert channels("request.created", request) == ["payments-team"]


def test_an_emergency_reaches_everyone_including_administrators_and_global_channels(
    make_persona: Callable[..., Any],
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    custodian: Any,
    administrator: Any,
    auditor: Any,
    outsider: Any,
    channels_of: dict[str, NotificationChannel],
) -> None:
    retired = make_persona("ivan.inactive", Role.ADMINISTRATOR)
    retired.is_active = False
    retired.save()
    request = make_request(emergency=True)

    # The person who broke the glass is told too: a stolen session must not stay quiet.
    assert people("request.emergency", request, requester) == [
        "rita.requester",
        "alan.approver",
        "carl.custodian",
        "ada.admin",
    ]
    assert channels("request.emergency", request) == ["payments-team", "security-team"]


def test_a_revocation_reaches_everyone_as_an_emergency_does(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    custodian: Any,
    administrator: Any,
    channels_of: dict[str, NotificationChannel],
) -> None:
    request = make_request()
    assert people("request.revoked", request, administrator) == [
        "rita.requester",
        "alan.approver",
        "carl.custodian",
        "ada.admin",
    ]
    assert channels("request.revoked", request) == ["payments-team", "security-team"]


def test_a_person_with_several_roles_is_in_the_audience_once(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    custodian: Any,
    account: Any,
) -> None:
    # Alan approves, keeps custody and administers the portal: three reasons, one email.
    approver.groups.add(
        *custodian.groups.all(), Group.objects.get_or_create(name=Role.ADMINISTRATOR.value)[0]
    )
    account.custodians.add(approver)

    assert people("request.emergency", make_request(), requester) == [
        "rita.requester",
        "alan.approver",
        "carl.custodian",
    ]


def test_the_actor_is_not_told_about_their_own_action(
    make_request: Callable[..., AccessRequest],
    make_persona: Callable[..., Any],
    custodian: Any,
    account: Any,
    channels_of: dict[str, NotificationChannel],
) -> None:
    second_custodian = make_persona("cleo.custodian", Role.CUSTODIAN)
    account.custodians.add(second_custodian)
    request = make_request()

    assert people("request.checked_in", request, custodian) == ["cleo.custodian"]
    assert channels("request.checked_in", request) == ["payments-team"]


def test_a_cancellation_reaches_only_the_approvers_who_have_not_decided(
    make_request: Callable[..., AccessRequest],
    requester: Any,
    approver: Any,
    second_approver: Any,
    account: Any,
) -> None:
    account.approvers.add(second_approver)
    request = make_request()
    Approval.objects.create(
        request=request, approver=approver, requester=requester, decision="approve", comment="ok"
    )

    assert people("request.cancelled", request, requester) == ["anna.approver"]


def test_people_without_an_email_address_are_skipped(
    make_request: Callable[..., AccessRequest], requester: Any, approver: Any, account: Any
) -> None:
    silent = UserFactory(username="no.mail", email="")
    account.approvers.add(silent)

    assert people("request.created", make_request(), requester) == ["alan.approver"]


def test_a_request_in_another_account_does_not_reach_this_accounts_people(
    make_request: Callable[..., AccessRequest], requester: Any, approver: Any
) -> None:
    request = make_request(account=AwsAccountFactory(name="elsewhere"))
    assert people("request.created", request, requester) == []
    assert channels("request.created", request) == []


# Expected people for each event when the named persona acts (None: the system acts).
AUDIENCES = [
    ("request.created", "requester", ["alan.approver"], ["payments-team"]),
    ("request.decision", "approver", ["rita.requester"], []),
    ("request.approved", "approver", ["rita.requester"], []),
    ("request.denied", "approver", ["rita.requester"], []),
    ("request.cancelled", "requester", ["alan.approver"], []),
    ("request.expired", None, ["rita.requester"], []),
    ("request.checked_out", "requester", ["carl.custodian"], ["payments-team"]),
    ("request.checked_in", "requester", ["carl.custodian"], ["payments-team"]),
    ("request.rotation_confirmed", "administrator", ["rita.requester", "carl.custodian"], []),
    ("request.closed", "custodian", ["rita.requester"], []),
    ("request.overdue", None, ["rita.requester", "carl.custodian"], ["payments-team"]),
    (
        "request.emergency",
        "requester",
        ["rita.requester", "alan.approver", "carl.custodian", "ada.admin"],
        ["payments-team", "security-team"],
    ),
    (
        "request.revoked",
        "administrator",
        ["rita.requester", "alan.approver", "carl.custodian", "ada.admin"],
        ["payments-team", "security-team"],
    ),
]


@pytest.mark.parametrize(("event", "actor_name", "expected_people", "expected_channels"), AUDIENCES)
def test_each_event_reaches_its_audience(
    request: pytest.FixtureRequest,
    make_request: Callable[..., AccessRequest],
    administrator: Any,
    channels_of: dict[str, NotificationChannel],
    event: str,
    actor_name: str | None,
    expected_people: list[str],
    expected_channels: list[str],
) -> None:
    actor = request.getfixturevalue(actor_name) if actor_name else None
    access_request = make_request()

    assert people(event, access_request, actor) == expected_people
    assert channels(event, access_request) == expected_channels


# --- Finding alerts -------------------------------------------------------------------------


def test_an_alert_about_a_known_account_reaches_its_approvers_custodians_and_channels(
    approver: Any,
    custodian: Any,
    administrator: Any,
    account: Any,
    channels_of: dict[str, NotificationChannel],
) -> None:
    found_people, found_channels = audience.alert_audience(account)
    assert [user.username for user in found_people] == ["alan.approver", "carl.custodian"]
    assert [channel.name for channel in found_channels] == ["payments-team"]


def test_an_alert_about_an_unknown_account_reaches_the_global_channels(
    administrator: Any, channels_of: dict[str, NotificationChannel]
) -> None:
    found_people, found_channels = audience.alert_audience(None)
    assert found_people == []
    assert [channel.name for channel in found_channels] == ["security-team"]


def test_an_alert_with_nobody_of_its_own_falls_back_to_the_administrators(administrator: Any) -> None:
    found_people, found_channels = audience.alert_audience(AwsAccountFactory(name="orphan"))
    assert [user.username for user in found_people] == ["ada.admin"]
    assert found_channels == []
