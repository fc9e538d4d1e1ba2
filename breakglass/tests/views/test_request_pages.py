"""The break-glass pages, person by person: who sees what, which buttons work, what each POST
changes and the ledger entry it writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from breakglass import custody, lifecycle, secrets, services
from breakglass.models import AccessRequest, Approval, RootCredential, SecretReveal
from breakglass.tests.factories import (
    AwsAccountFactory,
    GrantFactory,
    MfaDeviceFactory,
    PhysicalCredentialFactory,
)
from breakglass.tests.lifecycle_helpers import JUSTIFICATION, active, approve, make_request, returned
from ledger.models import LedgerEntry
from portal.policy import Role
from portal.testing import step_up

pytestmark = pytest.mark.django_db

PASSWORD = "Initial-Root-Password-0001"
NEW_PASSWORD = "Rotated-Root-Password-0002"


@pytest.fixture
def portal_account(administrator: Any, account: Any) -> Any:
    """payments-prod: quorum 1 (alan.approver), custodian carl, password kept in the portal."""
    services.root_credential_store_in_portal(actor=administrator, account=account, password=PASSWORD)
    return account


@pytest.fixture
def device(administrator: Any, account: Any) -> Any:
    key = MfaDeviceFactory(label="YubiKey Payments")
    services.mfa_device_assign(actor=administrator, device=key, account=account)
    return key


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
def pending(requester: Any, portal_account: Any) -> AccessRequest:
    return make_request(requester, portal_account)


def url(name: str, request: AccessRequest | None = None) -> str:
    return reverse(f"breakglass:{name}", kwargs={"uuid": request.uuid} if request else None)


def ledger_actions(request: AccessRequest) -> list[str]:
    return list(
        LedgerEntry.objects.filter(target_id=str(request.uuid))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def page(response: Any) -> str:
    return response.content.decode()


def listed(request: AccessRequest, html: str) -> bool:
    """Whether a list links to the request (flash messages name it too, without a link)."""
    return f'class="mono">{request.code}</a>' in html


# --- Who may open what ------------------------------------------------------------------------

# Anonymous visitors and people without a role: portal/tests/test_url_guards.py, for every URL.

# (url name, method) of the pages of one request
REQUEST_PAGES = [
    ("request_detail", "get"),
    ("request_decide", "post"),
    ("request_cancel", "post"),
    ("request_self_authorise", "post"),
    ("request_check_out", "post"),
    ("request_hand_over", "post"),
    ("request_reveal", "post"),
    ("request_check_in", "post"),
    ("request_confirm_rotation", "get"),
    ("request_revoke", "post"),
]


@pytest.mark.parametrize(("name", "method"), REQUEST_PAGES)
def test_a_person_with_no_part_in_the_request_does_not_learn_it_exists(
    signed_in: Callable[..., Client], make_persona: Any, pending: AccessRequest, name: str, method: str
) -> None:
    other_approver = make_persona("olga.approver", Role.APPROVER, Role.CUSTODIAN)
    AwsAccountFactory().approvers.add(other_approver)
    client = signed_in(other_approver, stepped_up=True)
    assert getattr(client, method)(url(name, pending)).status_code == 404
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert not pending.approvals.exists()


def test_a_plain_requester_has_no_custody_board(signed_in: Callable[..., Client], requester: Any) -> None:
    assert signed_in(requester).get(url("custody_board")).status_code == 403


@pytest.mark.parametrize("persona", ["requester", "approver", "custodian", "auditor", "administrator"])
def test_everyone_involved_sees_the_request_page(
    request: Any, signed_in: Callable[..., Client], pending: AccessRequest, persona: str
) -> None:
    response = signed_in(request.getfixturevalue(persona)).get(url("request_detail", pending))
    assert response.status_code == 200
    assert pending.code in page(response)
    assert JUSTIFICATION in page(response)


# --- New request ------------------------------------------------------------------------------


def test_the_form_offers_only_accounts_with_a_live_grant_and_groups_the_tasks(
    signed_in: Callable[..., Client], requester: Any, account: Any, other_account: Any
) -> None:
    GrantFactory(user=requester, account=account)
    GrantFactory(user=requester, account=other_account, expires_at=timezone.now() - timedelta(minutes=1))
    html = page(signed_in(requester).get(url("request_create")))

    assert "payments-prod (123456789012)" in html
    assert "web-staging" not in html
    assert 'optgroup label="Tasks that need the root password and MFA device"' in html
    assert 'optgroup label="AssumeRoot tasks (short-lived credentials, no password handed out)"' in html
    assert 'data-max-minutes="120"' in html
    # Unlocking a bucket policy is steered to AssumeRoot.
    assert 'data-hint-for="unlock_bucket_policy"' in html
    assert "AssumeRoot: delete an S3 bucket policy that locks everyone out" in html
    # No emergency grant, no emergency option.
    assert "self-authorise" not in html.lower()


def test_someone_without_a_grant_is_told_to_ask_for_one(
    signed_in: Callable[..., Client], requester: Any
) -> None:
    html = page(signed_in(requester).get(url("request_create")))
    assert "You hold no live grant for any account" in html
    assert "New request" not in page(signed_in(requester).get(url("request_list")))


def request_form(account: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "account": account.pk,
        "root_task": "close_account",
        "justification": JUSTIFICATION,
        "ticket_reference": "CHG-1234",
        "starts_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": 60,
        **overrides,
    }


def test_a_requester_files_a_request_and_lands_on_its_page(
    signed_in: Callable[..., Client], requester: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account)
    response = signed_in(requester).post(url("request_create"), request_form(account))

    created = AccessRequest.objects.get(requester=requester)
    assert response.status_code == 302
    assert response["Location"] == url("request_detail", created)
    assert created.status == "pending"
    assert created.ticket_reference == "CHG-1234"
    assert ledger_actions(created) == ["access_request.created"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"justification": "because"}, "Explain why root is needed in at least 20 characters."),
        ({"ticket_reference": ""}, "requires a ticket reference (change or incident number)."),
        ({"duration_minutes": 500}, "allows at most 120 minutes."),
        ({"root_task": "other"}, "Say which root task this is (at least 10 characters)."),
    ],
)
def test_the_service_s_refusal_comes_back_on_the_form(
    signed_in: Callable[..., Client], requester: Any, account: Any, overrides: dict[str, Any], message: str
) -> None:
    GrantFactory(user=requester, account=account)
    response = signed_in(requester).post(url("request_create"), request_form(account, **overrides))
    assert response.status_code == 200
    assert message in page(response)
    assert 'role="alert"' in page(response)
    assert not AccessRequest.objects.exists()


def test_an_emergency_request_needs_a_fresh_re_authentication(
    signed_in: Callable[..., Client], requester: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    response = signed_in(requester).post(
        url("request_create"),
        request_form(account, emergency="on", emergency_reason="Both approvers are on a plane right now."),
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not AccessRequest.objects.exists()


def test_a_person_with_an_emergency_grant_self_authorises_in_one_step(
    signed_in: Callable[..., Client], requester: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    client = signed_in(requester, stepped_up=True)
    assert "Emergency: self-authorise now" in page(client.get(url("request_create")))

    response = client.post(
        url("request_create"),
        request_form(account, emergency="on", emergency_reason="Both approvers are on a plane right now."),
    )

    created = AccessRequest.objects.get(requester=requester)
    assert response.status_code == 302
    assert created.status == "active"
    assert created.emergency
    assert ledger_actions(created) == ["access_request.created", "access_request.active"]
    html = page(client.get(url("request_detail", created)))
    assert "Emergency" in html
    assert "approvals outstanding" in html
    assert "Self-authorised in an emergency" in html


def test_a_refused_self_authorisation_leaves_no_request_behind(
    signed_in: Callable[..., Client], requester: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    response = signed_in(requester, stepped_up=True).post(
        url("request_create"), request_form(account, emergency="on", emergency_reason="hurry")
    )
    assert response.status_code == 200
    assert "Say why approvers cannot be reached (at least 20 characters)." in page(response)
    assert not AccessRequest.objects.exists()
    assert not LedgerEntry.objects.filter(action__startswith="access_request.").exists()


def test_a_requester_self_authorises_a_pending_request_from_its_page(
    signed_in: Callable[..., Client], requester: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    pending = make_request(requester, account)
    client = signed_in(requester, stepped_up=True)
    assert "Self-authorise and check out" in page(client.get(url("request_detail", pending)))

    client.post(
        url("request_self_authorise", pending), {"reason": "Approvers unreachable during the outage."}
    )

    pending.refresh_from_db()
    assert pending.status == "active"
    assert pending.emergency
    assert "access_request.active" in ledger_actions(pending)


# --- Lists ------------------------------------------------------------------------------------


def test_my_requests_lists_only_my_own(
    signed_in: Callable[..., Client], requester: Any, make_persona: Any, portal_account: Any
) -> None:
    mine = make_request(requester, portal_account)
    theirs = make_request(make_persona("rob.requester", Role.REQUESTER), portal_account)
    html = page(signed_in(requester).get(url("request_list")))
    assert mine.code in html
    assert theirs.code not in html
    assert "Close the AWS account" in html
    assert "New request" in html


def test_an_approver_sees_what_waits_for_their_decision_until_they_decide(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    client = signed_in(approver)
    assert listed(pending, page(client.get(url("request_approvals"))))
    lifecycle.access_request_decide(
        request=pending, approver=approver, decision="deny", comment="No change ticket."
    )
    assert not listed(pending, page(client.get(url("request_approvals"))))


def test_an_emergency_session_waits_for_approvals_afterwards(
    signed_in: Callable[..., Client], requester: Any, approver: Any, account: Any
) -> None:
    GrantFactory(user=requester, account=account, emergency=True)
    emergency = lifecycle.access_request_self_authorise(
        request=make_request(requester, account),
        requester=requester,
        reason="Nobody answers the phone tonight.",
    )
    client = signed_in(approver, stepped_up=True)
    assert listed(emergency, page(client.get(url("request_approvals"))))
    assert "Approve afterwards (emergency session)" in page(client.get(url("request_detail", emergency)))

    client.post(url("request_decide", emergency), {"decision": "approve", "comment": "Confirmed by phone."})

    emergency.refresh_from_db()
    assert emergency.emergency_approved_at is not None
    assert "access_request.emergency_approved" in ledger_actions(emergency)
    assert not listed(emergency, page(client.get(url("request_approvals"))))


def test_nobody_is_asked_to_approve_their_own_request(
    signed_in: Callable[..., Client], approver: Any, account: Any
) -> None:
    own = make_request(approver, account)
    client = signed_in(approver)
    assert not listed(own, page(client.get(url("request_approvals"))))
    assert 'value="approve"' not in page(client.get(url("request_detail", own)))


def test_active_sessions_are_seen_by_the_holder_the_custodians_and_auditors_only(
    signed_in: Callable[..., Client],
    requester: Any,
    approver: Any,
    custodian: Any,
    auditor: Any,
    make_persona: Any,
    portal_account: Any,
) -> None:
    session = active(make_request(requester, portal_account), approver)
    bystander = make_persona("rob.requester", Role.REQUESTER)
    GrantFactory(user=bystander, account=portal_account)

    for person in (requester, custodian, auditor):
        html = page(signed_in(person).get(url("request_active")))
        assert session.code in html, person
        assert "left" in html
    assert session.code not in page(signed_in(bystander).get(url("request_active")))


def test_the_custody_board_shows_where_each_device_and_password_of_kept_accounts_is(
    signed_in: Callable[..., Client],
    requester: Any,
    approver: Any,
    custodian: Any,
    administrator: Any,
    auditor: Any,
    portal_account: Any,
    device: Any,
) -> None:
    elsewhere = AwsAccountFactory(name="not-kept")
    services.mfa_device_assign(
        actor=administrator, device=MfaDeviceFactory(label="Other Key"), account=elsewhere
    )
    PhysicalCredentialFactory(account=elsewhere, safe_location="Vault 9", envelope_number="ENV-999")
    session = active(make_request(requester, portal_account), approver)
    custody.access_request_hand_over(request=session, custodian=custodian, devices=[device])

    html = page(signed_in(custodian).get(url("custody_board")))
    assert "YubiKey Payments" in html
    assert "rita.requester" in html
    assert session.code in html
    assert "Encrypted in the portal" in html
    assert "Other Key" not in html
    assert "ENV-999" not in html

    everything = page(signed_in(auditor).get(url("custody_board")))
    assert "Other Key" in everything
    assert "Vault 9" in everything
    assert "ENV-999" in everything


def test_lists_run_the_same_number_of_queries_for_few_and_many_requests(
    signed_in: Callable[..., Client],
    requester: Any,
    approver: Any,
    custodian: Any,
    administrator: Any,
    auditor: Any,
) -> None:
    def populate(n: int) -> None:
        for _ in range(n):
            account = AwsAccountFactory()
            account.approvers.add(approver)
            account.custodians.add(custodian)
            PhysicalCredentialFactory(account=account)
            key = MfaDeviceFactory()
            services.mfa_device_assign(actor=administrator, device=key, account=account)
            session = active(make_request(requester, account), approver)
            custody.access_request_hand_over(request=session, custodian=custodian, devices=[key])
            make_request(requester, account)

    requester_client, approver_client, auditor_client = (
        signed_in(requester),
        signed_in(approver),
        signed_in(auditor),
    )
    pages = [
        (requester_client, "request_list"),
        (approver_client, "request_approvals"),
        (auditor_client, "request_active"),
        (auditor_client, "custody_board"),
    ]
    populate(2)
    few = {}
    for client, name in pages:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(name)).status_code == 200
        few[name] = len(queries)
    populate(8)
    for client, name in pages:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(name)).status_code == 200
        assert len(queries) == few[name], name


def test_the_request_page_runs_the_same_number_of_queries_however_long_its_history(
    signed_in: Callable[..., Client], requester: Any, approver: Any, portal_account: Any
) -> None:
    session = active(make_request(requester, portal_account), approver)
    client = signed_in(requester)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("request_detail", session)).status_code == 200
    for _ in range(5):
        custody.access_request_reveal_password(request=session, user=requester)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url("request_detail", session)).status_code == 200
    assert len(many) == len(few)


# --- Decide -----------------------------------------------------------------------------------


def test_approving_needs_a_fresh_mfa_re_authentication(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    response = signed_in(approver).post(
        url("request_decide", pending), {"decision": "approve", "comment": "Agreed in the CAB."}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not Approval.objects.exists()
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_a_password_re_authentication_does_not_let_an_approver_decide(
    approver: Any, pending: AccessRequest
) -> None:
    client = Client()
    client.force_login(approver)
    step_up(client, approver, method="password")
    client.post(url("request_decide", pending), {"decision": "approve", "comment": "Agreed in the CAB."})
    assert not Approval.objects.exists()


def test_an_approver_approves_after_stepping_up(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    client = signed_in(approver, stepped_up=True)
    assert 'value="approve"' in page(client.get(url("request_detail", pending)))

    response = client.post(
        url("request_decide", pending), {"decision": "approve", "comment": "Agreed in the CAB."}
    )

    assert response.status_code == 302
    assert response["Location"] == url("request_detail", pending)
    pending.refresh_from_db()
    assert pending.status == "approved"
    assert ledger_actions(pending) == [
        "access_request.created",
        "access_request.decision",
        "access_request.approved",
    ]
    html = page(client.get(url("request_detail", pending)))
    assert "Agreed in the CAB." in html
    assert "You approved" in html


def test_a_decision_without_a_comment_shows_the_service_s_message(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    response = signed_in(approver, stepped_up=True).post(
        url("request_decide", pending), {"decision": "deny", "comment": "  "}
    )
    assert response.status_code == 200
    assert "Say why you decide so; the comment goes into the evidence." in page(response)
    assert not Approval.objects.exists()


def test_an_approver_denies_and_the_request_is_denied(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    signed_in(approver, stepped_up=True).post(
        url("request_decide", pending), {"decision": "deny", "comment": "No change ticket for this."}
    )
    pending.refresh_from_db()
    assert pending.status == "denied"
    assert ledger_actions(pending)[-1] == "access_request.denied"


def test_deciding_twice_is_refused_with_the_reason(
    signed_in: Callable[..., Client], approver: Any, second_approver: Any, requester: Any, account: Any
) -> None:
    account.approvers.add(second_approver)
    account.approval_quorum = 2
    account.save()
    GrantFactory(user=requester, account=account)
    request = make_request(requester, account)
    client = signed_in(approver, stepped_up=True)
    client.post(url("request_decide", request), {"decision": "approve", "comment": "Fine by me."})
    response = client.post(url("request_decide", request), {"decision": "approve", "comment": "Again."})
    assert "You have already decided on this request." in page(response)
    assert Approval.objects.count() == 1


# --- Cancel, check out, hand over -------------------------------------------------------------


def test_a_requester_cancels_a_pending_request(
    signed_in: Callable[..., Client], requester: Any, pending: AccessRequest
) -> None:
    signed_in(requester).post(url("request_cancel", pending))
    pending.refresh_from_db()
    assert pending.status == "cancelled"
    assert ledger_actions(pending)[-1] == "access_request.cancelled"


def test_nobody_else_cancels_a_request(
    signed_in: Callable[..., Client], approver: Any, pending: AccessRequest
) -> None:
    response = signed_in(approver).post(url("request_cancel", pending), follow=True)
    assert "Only the requester can cancel a request." in page(response)
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_checking_out_needs_a_fresh_re_authentication(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest
) -> None:
    approve(pending, approver)
    response = signed_in(requester).post(url("request_check_out", pending))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    pending.refresh_from_db()
    assert pending.status == "approved"


def test_the_requester_checks_out_an_approved_request(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest
) -> None:
    approve(pending, approver)
    client = signed_in(requester, stepped_up=True)
    assert "Check out" in page(client.get(url("request_detail", pending)))

    client.post(url("request_check_out", pending))

    pending.refresh_from_db()
    assert pending.status == "active"
    assert ledger_actions(pending)[-1] == "access_request.active"
    assert "left" in page(client.get(url("request_detail", pending)))


def test_a_check_out_while_the_password_awaits_rotation_is_refused_with_the_reason(
    signed_in: Callable[..., Client], requester: Any, approver: Any, portal_account: Any
) -> None:
    returned(make_request(requester, portal_account), approver)
    second = approve(make_request(requester, portal_account), approver)
    response = signed_in(requester, stepped_up=True).post(url("request_check_out", second), follow=True)
    assert "a custodian must confirm the rotation first" in page(response)
    second.refresh_from_db()
    assert second.status == "approved"


def test_a_custodian_hands_over_the_device_after_stepping_up(
    signed_in: Callable[..., Client],
    requester: Any,
    approver: Any,
    custodian: Any,
    pending: AccessRequest,
    device: Any,
) -> None:
    active(pending, approver)
    assert "Hand over" not in page(signed_in(requester).get(url("request_detail", pending)))
    assert (
        signed_in(custodian)
        .post(url("request_hand_over", pending), {"devices": [device.pk]})["Location"]
        .startswith(reverse("mfa_reauthenticate"))
    )
    client = signed_in(custodian, stepped_up=True)
    assert "YubiKey Payments" in page(client.get(url("request_detail", pending)))

    client.post(url("request_hand_over", pending), {"devices": [device.pk]})

    device.refresh_from_db()
    assert device.custody_state == "checked_out"
    assert device.holder == requester
    assert ledger_actions(pending)[-1] == "access_request.devices_handed_over"


def test_handing_over_nothing_shows_the_service_s_message(
    signed_in: Callable[..., Client], approver: Any, custodian: Any, pending: AccessRequest, device: Any
) -> None:
    active(pending, approver)
    response = signed_in(custodian, stepped_up=True).post(url("request_hand_over", pending), {})
    assert "Choose the MFA devices you hand over." in page(response)


# --- Reveal -----------------------------------------------------------------------------------


def test_the_holder_reveals_the_password_in_the_post_response_only(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest, settings: Any
) -> None:
    settings.PORTAL_REVEAL_SECONDS = 15
    active(pending, approver)
    client = signed_in(requester, stepped_up=True)
    before = page(client.get(url("request_detail", pending)))
    assert "Reveal the root password" in before
    assert PASSWORD not in before

    response = client.post(url("request_reveal", pending))

    assert response.status_code == 200
    assert PASSWORD in page(response)
    assert "no-store" in response["Cache-Control"]
    assert 'data-reveal-seconds="15"' in page(response)
    assert SecretReveal.objects.filter(request=pending, user=requester).count() == 1
    assert ledger_actions(pending)[-1] == "access_request.password_revealed"
    after = page(client.get(url("request_detail", pending)))
    assert PASSWORD not in after
    assert "Revealed the root password" in after


def test_revealing_needs_a_fresh_re_authentication(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest
) -> None:
    active(pending, approver)
    response = signed_in(requester).post(url("request_reveal", pending))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert PASSWORD not in page(response)
    assert not SecretReveal.objects.exists()


@pytest.mark.parametrize("persona", ["custodian", "administrator", "approver"])
def test_nobody_but_the_holder_can_reveal_the_password(
    request: Any,
    signed_in: Callable[..., Client],
    approver: Any,
    pending: AccessRequest,
    persona: str,
) -> None:
    active(pending, approver)
    client = signed_in(request.getfixturevalue(persona), stepped_up=True)
    assert "Reveal the root password" not in page(client.get(url("request_detail", pending)))

    response = client.post(url("request_reveal", pending), follow=True)

    assert PASSWORD not in page(response)
    assert "Only the holder of the check-out can reveal the password." in page(response)
    assert not SecretReveal.objects.exists()


def test_a_physical_password_shows_the_safe_and_envelope_instead(
    signed_in: Callable[..., Client], requester: Any, approver: Any, account: Any
) -> None:
    PhysicalCredentialFactory(account=account, safe_location="Safe B, shelf 1", envelope_number="ENV-0042")
    session = active(make_request(requester, account), approver)
    html = page(signed_in(requester).get(url("request_detail", session)))
    assert "Safe B, shelf 1" in html
    assert "ENV-0042" in html
    assert "Reveal the root password" not in html
    assert "New envelope seal number" in html


# --- Check in, rotation, review ---------------------------------------------------------------


def test_the_holder_checks_in_with_what_was_done(
    signed_in: Callable[..., Client],
    requester: Any,
    approver: Any,
    custodian: Any,
    pending: AccessRequest,
    device: Any,
) -> None:
    active(pending, approver)
    custody.access_request_hand_over(request=pending, custodian=custodian, devices=[device])

    signed_in(requester).post(
        url("request_check_in", pending), {"work_done": "Closed the account as planned."}
    )

    pending.refresh_from_db()
    device.refresh_from_db()
    assert pending.status == "returned"
    assert device.custody_state == "in_safe"
    assert RootCredential.objects.get(account=pending.account).rotation_required
    assert ledger_actions(pending)[-1] == "access_request.returned"


def test_a_physical_check_in_without_a_seal_number_shows_the_service_s_message(
    signed_in: Callable[..., Client], requester: Any, approver: Any, account: Any
) -> None:
    PhysicalCredentialFactory(account=account)
    session = active(make_request(requester, account), approver)
    response = signed_in(requester).post(
        url("request_check_in", session), {"work_done": "Closed the account."}
    )
    assert "Give the number of the new seal on the envelope." in page(response)
    session.refresh_from_db()
    assert session.status == "active"


def test_the_rotation_page_asks_for_a_re_authentication_first(
    signed_in: Callable[..., Client], requester: Any, approver: Any, custodian: Any, pending: AccessRequest
) -> None:
    returned(pending, approver)
    response = signed_in(custodian).get(url("request_confirm_rotation", pending))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


def test_a_new_password_posted_without_a_fresh_re_authentication_is_not_kept_anywhere(
    signed_in: Callable[..., Client], approver: Any, custodian: Any, pending: AccessRequest
) -> None:
    returned(pending, approver)
    client = signed_in(custodian)
    response = client.post(
        url("request_confirm_rotation", pending),
        {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD, "review_note": "All in scope."},
    )
    assert response.status_code == 302
    assert response["Location"] == url("request_confirm_rotation", pending)
    assert NEW_PASSWORD not in str(dict(client.session.items()))
    pending.refresh_from_db()
    assert pending.status == "returned"


def test_a_custodian_confirms_the_rotation_and_closes_the_session(
    signed_in: Callable[..., Client], approver: Any, custodian: Any, pending: AccessRequest
) -> None:
    returned(pending, approver)
    client = signed_in(custodian, stepped_up=True)
    assert "Confirm rotation and review" in page(client.get(url("request_detail", pending)))
    form = page(client.get(url("request_confirm_rotation", pending)))
    assert 'type="password"' in form

    response = client.post(
        url("request_confirm_rotation", pending),
        {
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
            "review_note": "All in scope of the task.",
        },
    )

    assert response["Location"] == url("request_detail", pending)
    pending.refresh_from_db()
    assert pending.status == "closed"
    credential = RootCredential.objects.get(account=pending.account)
    assert not credential.rotation_required
    assert secrets.reveal_root_password(credential=credential) == NEW_PASSWORD
    assert ledger_actions(pending)[-2:] == ["root_credential.rotated", "access_request.closed"]
    html = page(client.get(url("request_detail", pending)))
    assert "All in scope of the task." in html
    assert NEW_PASSWORD not in html


def test_two_different_new_passwords_are_refused_and_not_echoed(
    signed_in: Callable[..., Client], approver: Any, custodian: Any, pending: AccessRequest
) -> None:
    returned(pending, approver)
    response = signed_in(custodian, stepped_up=True).post(
        url("request_confirm_rotation", pending),
        {
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD + "x",
            "review_note": "All in scope.",
        },
    )
    assert response.status_code == 200
    assert "The two passwords differ." in page(response)
    assert NEW_PASSWORD not in page(response)


def test_a_too_short_review_shows_the_service_s_message(
    signed_in: Callable[..., Client], approver: Any, custodian: Any, pending: AccessRequest
) -> None:
    returned(pending, approver)
    response = signed_in(custodian, stepped_up=True).post(
        url("request_confirm_rotation", pending),
        {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD, "review_note": "ok"},
    )
    assert "Write the review: was the work in scope? (at least 10 characters)." in page(response)


def test_the_holder_cannot_review_their_own_session(
    signed_in: Callable[..., Client], requester: Any, approver: Any, pending: AccessRequest
) -> None:
    returned(pending, approver)
    client = signed_in(requester, stepped_up=True)
    assert "Confirm rotation and review" not in page(client.get(url("request_detail", pending)))
    response = client.post(url("request_confirm_rotation", pending), {"review_note": "Reviewed it myself."})
    assert "The holder cannot review their own session" in page(response)
    pending.refresh_from_db()
    assert pending.status == "returned"


# --- Revoke -----------------------------------------------------------------------------------


def test_an_administrator_revokes_an_active_session(
    signed_in: Callable[..., Client],
    requester: Any,
    approver: Any,
    administrator: Any,
    pending: AccessRequest,
) -> None:
    active(pending, approver)
    assert "Revoke" not in page(signed_in(requester).get(url("request_detail", pending)))

    signed_in(administrator).post(url("request_revoke", pending), {"reason": "Holder left the company."})

    pending.refresh_from_db()
    assert pending.status == "revoked"
    assert RootCredential.objects.get(account=pending.account).rotation_required
    assert ledger_actions(pending)[-1] == "access_request.revoked"


def test_a_revocation_without_a_reason_shows_the_service_s_message(
    signed_in: Callable[..., Client], administrator: Any, pending: AccessRequest
) -> None:
    response = signed_in(administrator).post(url("request_revoke", pending), {"reason": ""})
    assert "Say why the request is revoked." in page(response)


def test_nobody_but_an_administrator_revokes(
    signed_in: Callable[..., Client], custodian: Any, pending: AccessRequest
) -> None:
    response = signed_in(custodian).post(url("request_revoke", pending), {"reason": "I do not like it."})
    assert "Only an administrator can revoke a request." in page(response)
    pending.refresh_from_db()
    assert pending.status == "pending"


# --- The history ------------------------------------------------------------------------------


def test_the_timeline_merges_transitions_decisions_reveals_and_notifications_in_order(
    signed_in: Callable[..., Client], requester: Any, approver: Any, auditor: Any, pending: AccessRequest
) -> None:
    lifecycle.access_request_decide(
        request=pending, approver=approver, decision="approve", comment="Matches change CHG-1234."
    )
    custody.access_request_check_out(request=pending, requester=requester)
    custody.access_request_reveal_password(request=pending, user=requester)

    html = page(signed_in(auditor).get(url("request_detail", pending)))

    expected_in_order = [
        "<strong>Requested</strong>",
        "Matches change CHG-1234.",
        "<strong>Pending approval → Approved</strong>",
        "<strong>Approved → Checked out</strong>",
        "Revealed the root password",
    ]
    positions = [html.index(text) for text in expected_in_order]
    assert positions == sorted(positions)
    assert "request.created" in html
    assert "alan.approver" in html
    assert PASSWORD not in html
