"""Requests for the five AssumeRoot tasks (issue 12): which accounts may ask for them, the bucket or
queue an unlock task names, the form steering password requests to AssumeRoot, and what the session
does without a password (no rotation, no hand-over, its own next step)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from breakglass import custody, lifecycle, rules
from breakglass.choices import GovernanceMode
from breakglass.next_step import next_step
from breakglass.request_forms import AccessRequestForm
from breakglass.tests.factories import AwsAccountFactory, GrantFactory, PhysicalCredentialFactory
from breakglass.tests.lifecycle_helpers import JUSTIFICATION, approve, make_request
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db

QUEUE = "https://sqs.eu-west-1.amazonaws.com/{account}/orders"


@pytest.fixture
def centralised(approver: Any) -> Any:
    account = AwsAccountFactory(
        name="data-lake", account_id="222222222222", governance_mode=GovernanceMode.CENTRALISED
    )
    account.approvers.set([approver])
    return account


@pytest.fixture
def classic(approver: Any, custodian: Any) -> Any:
    account = AwsAccountFactory(name="web-prod", account_id="333333333333")
    account.approvers.set([approver])
    account.custodians.set([custodian])
    PhysicalCredentialFactory(account=account)
    return account


def _errors(excinfo: Any) -> dict[str, Any]:
    return dict(excinfo.value.message_dict)


def test_the_s3_unlock_task_needs_a_valid_bucket_name(requester: Any, centralised: Any) -> None:
    with pytest.raises(DomainError) as refused:
        make_request(requester, centralised, root_task="assume_root_s3_unlock")
    assert "bucket" in _errors(refused)["bucket_name"][0]
    with pytest.raises(DomainError) as refused:
        make_request(requester, centralised, root_task="assume_root_s3_unlock", bucket_name="s3://Orders")
    assert "lower-case" in _errors(refused)["bucket_name"][0]

    created = make_request(
        requester, centralised, root_task="assume_root_s3_unlock", bucket_name=" orders-archive "
    )

    assert created.task_bucket_name == "orders-archive"
    assert created.task_queue_url == ""
    entry = LedgerEntry.objects.get(action="access_request.created", target_id=str(created.uuid))
    assert entry.data["bucket_name"] == "orders-archive"


def test_the_sqs_unlock_task_needs_a_queue_of_the_requested_account(requester: Any, centralised: Any) -> None:
    with pytest.raises(DomainError) as refused:
        make_request(
            requester,
            centralised,
            root_task="assume_root_sqs_unlock",
            queue_url=QUEUE.format(account="999999999999"),
        )
    assert "999999999999" in _errors(refused)["queue_url"][0]

    created = make_request(
        requester,
        centralised,
        root_task="assume_root_sqs_unlock",
        queue_url=QUEUE.format(account="222222222222"),
    )

    assert created.task_queue_url == QUEUE.format(account="222222222222")


def test_a_target_given_for_another_task_is_not_kept(requester: Any, centralised: Any) -> None:
    created = make_request(
        requester, centralised, root_task="assume_root_audit_credentials", bucket_name="orders", queue_url="x"
    )
    assert (created.task_bucket_name, created.task_queue_url) == ("", "")


def test_a_classic_account_takes_assume_root_tasks_only_with_root_sessions_on(
    requester: Any, classic: Any
) -> None:
    with pytest.raises(DomainError) as refused:
        make_request(requester, classic, root_task="assume_root_delete_credentials")
    assert "root sessions" in _errors(refused)["root_task"][0]

    classic.root_sessions_enabled = True
    classic.save()
    created = make_request(requester, classic, root_task="assume_root_delete_credentials")

    assert created.is_assume_root


def test_a_centralised_account_still_refuses_password_tasks(requester: Any, centralised: Any) -> None:
    with pytest.raises(DomainError) as refused:
        make_request(requester, centralised, root_task="close_account")
    assert "choose an AssumeRoot task" in _errors(refused)["root_task"][0]


def _form(requester: Any, account: Any, **data: Any) -> AccessRequestForm:
    if not account.grants.filter(user=requester).exists():
        GrantFactory(user=requester, account=account)
    return AccessRequestForm(
        {
            "account": account.pk,
            "justification": JUSTIFICATION,
            "ticket_reference": "CHG-1",
            "starts_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 30,
            **data,
        },
        user=requester,
    )


def test_the_form_steers_a_password_task_to_assume_root_where_it_reaches(
    requester: Any, classic: Any
) -> None:
    classic.root_sessions_enabled = True
    classic.save()
    steered = _form(requester, classic, root_task="unlock_bucket_policy")
    assert not steered.is_valid()
    assert "AssumeRoot: delete an S3 bucket policy" in steered.errors["root_task"][0]

    insisted = _form(requester, classic, root_task="unlock_bucket_policy", password_needed="on")
    assert insisted.is_valid(), insisted.errors
    assert "password_needed" not in insisted.cleaned_data


def test_the_form_does_not_steer_where_assume_root_cannot_reach(requester: Any, classic: Any) -> None:
    assert _form(requester, classic, root_task="unlock_bucket_policy").is_valid()


def test_an_assume_root_session_hands_over_no_device_and_reveals_no_password(
    requester: Any, approver: Any, custodian: Any, centralised: Any
) -> None:
    session = approve(
        make_request(requester, centralised, root_task="assume_root_audit_credentials"), approver
    )
    custody.access_request_check_out(request=session, requester=requester)
    session.refresh_from_db()

    assert "no MFA device leaves the safe" in (rules.refusal_to_hand_over(custodian, session) or "")
    assert "no root password is handed out" in (rules.refusal_to_reveal(requester, session) or "")
    assert rules.refusal_to_run_task(requester, session) is None
    assert rules.refusal_to_run_task(approver, session) == "Only the holder of the session can run its task."


def test_a_password_session_has_no_task_to_run(requester: Any, approver: Any, classic: Any) -> None:
    session = approve(make_request(requester, classic), approver)
    custody.access_request_check_out(
        request=session,
        requester=requester,
    )
    session.refresh_from_db()
    assert "uses the password" in (rules.refusal_to_run_task(requester, session) or "")


def test_a_pending_rotation_does_not_stop_an_assume_root_session_and_it_marks_none(
    requester: Any, approver: Any, custodian: Any, classic: Any
) -> None:
    classic.root_sessions_enabled = True
    classic.save()
    credential = classic.root_credential
    credential.rotation_required = True
    credential.save()
    session = approve(make_request(requester, classic, root_task="assume_root_audit_credentials"), approver)

    custody.access_request_check_out(request=session, requester=requester)
    custody.access_request_check_in(
        request=session, actor=requester, work_done="The task failed; nothing done."
    )
    closed = custody.access_request_confirm_rotation(
        request=session, actor=custodian, review_note="Nothing was done as root; fine."
    )

    assert closed.status == "closed"
    credential.refresh_from_db()
    # Still pending from the earlier password session: the AssumeRoot session neither needs nor clears it.
    assert credential.rotation_required is True
    entry = LedgerEntry.objects.get(action="root_credential.rotated", target_id=str(session.uuid))
    assert entry.data["assume_root"] is True


def test_the_next_step_of_an_assume_root_session_names_the_button_not_a_custodian(
    requester: Any, approver: Any, centralised: Any
) -> None:
    session = approve(
        make_request(requester, centralised, root_task="assume_root_audit_credentials"), approver
    )
    now = timezone.now() + timedelta(seconds=1)
    assert "Run task" in next_step(session, now=now).sentence
    assert "custodian" not in next_step(session, now=now).sentence

    custody.access_request_check_out(request=session, requester=requester)
    session.refresh_from_db()
    sentence = next_step(session, now=now).sentence
    assert "Run task" in sentence
    assert "no password or device" in sentence


def test_an_emergency_assume_root_request_follows_the_same_rules(requester: Any, centralised: Any) -> None:
    GrantFactory(user=requester, account=centralised, emergency=True)
    with pytest.raises(DomainError) as refused:
        lifecycle.access_request_create_emergency(
            requester=requester,
            account=centralised,
            reason="Every approver is on the same flight right now.",
            root_task="assume_root_s3_unlock",
            justification=JUSTIFICATION,
            starts_at=timezone.now(),
            duration_minutes=30,
            ticket_reference="INC-9",
        )
    assert "bucket_name" in _errors(refused)

    session = lifecycle.access_request_create_emergency(
        requester=requester,
        account=centralised,
        reason="Every approver is on the same flight right now.",
        root_task="assume_root_s3_unlock",
        bucket_name="orders-archive",
        justification=JUSTIFICATION,
        starts_at=timezone.now(),
        duration_minutes=30,
        ticket_reference="INC-9",
    )
    assert session.status == "active"
    assert session.task_bucket_name == "orders-archive"
    assert rules.refusal_to_run_task(requester, session) is None


def test_custodians_are_not_asked_to_hand_over_for_an_assume_root_session(
    requester: Any, approver: Any, custodian: Any, classic: Any
) -> None:
    from breakglass.home_selectors import custodian_home

    classic.root_sessions_enabled = True
    classic.save()
    session = approve(make_request(requester, classic, root_task="assume_root_audit_credentials"), approver)
    custody.access_request_check_out(request=session, requester=requester)

    assert custodian_home(user=custodian).hand_overs == []


def test_revoking_an_active_assume_root_session_marks_no_rotation(
    requester: Any, approver: Any, administrator: Any, classic: Any
) -> None:
    classic.root_sessions_enabled = True
    classic.save()
    session = approve(make_request(requester, classic, root_task="assume_root_audit_credentials"), approver)
    custody.access_request_check_out(request=session, requester=requester)

    revoked = lifecycle.access_request_revoke(
        request=session, administrator=administrator, reason="Wrong account."
    )

    classic.root_credential.refresh_from_db()
    assert classic.root_credential.rotation_required is False
    assert next_step(revoked, now=timezone.now()).done
