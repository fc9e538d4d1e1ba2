"""The findings in words: summaries, notes and subjects. Pure: rows built in memory, no database."""

from __future__ import annotations

from audits.alerts import alert_subject
from audits.choices import FindingKind
from audits.reconcile.wording import (
    account_label,
    checkout_overdue_summary,
    failed_logins_summary,
    per_event_summary,
    person,
    reopen_note,
    reopen_reason,
    resolve_note,
    short_account_label,
    unapproved_summary,
)
from audits.tests.reconcile import memory
from audits.tests.reconcile.memory import ACCOUNT_ID, T0, M
from breakglass.choices import RequestStatus

K = FindingKind
LABEL = "payments-prod (123456789012)"


def test_an_account_is_named_by_the_inventory_or_said_to_be_missing_from_it() -> None:
    assert account_label(ACCOUNT_ID, memory.account()) == LABEL
    assert account_label("999988887777", None) == (
        "AWS account 999988887777, which is not in the portal's inventory,"
    )
    assert short_account_label("999988887777", None) == "999988887777 (not in the inventory)"


def test_a_person_is_named_with_their_username() -> None:
    assert person(memory.session()) == "Rita Requester (rita.requester)"


def test_a_root_sign_in_without_mfa_says_when_from_where_and_under_which_check_out() -> None:
    session = memory.session()
    login = memory.event("nomfa", T0 + M, name="ConsoleLogin")
    login.session = session

    text = per_event_summary(K.ROOT_LOGIN_WITHOUT_MFA, login, LABEL)

    assert text == (
        f"Root of {LABEL} signed in to the console without MFA at 2026-05-04 10:01:00 UTC "
        f"from 198.51.100.7 during check-out {session.code}."
    )


def test_unapproved_usage_lists_the_actions_of_the_day_and_the_assume_root_caller() -> None:
    caller = "arn:aws:sts::111111111111:assumed-role/BreakGlass/alice"
    events = [
        memory.event(f"e{i}", T0 + i * M, name=f"Action{i}", assume_root_caller=caller) for i in range(7)
    ]

    text = unapproved_summary(events, LABEL)

    assert text == (
        f"Root of {LABEL} was used without an approved check-out: 7 actions on 2026-05-04 between "
        "10:00:00 and 10:06:00 UTC (Action0, Action1, Action2, Action3, Action4 and 2 more) "
        f"from 198.51.100.7, through AssumeRoot called by {caller}."
    )


def test_a_burst_of_failed_sign_ins_says_someone_may_be_guessing() -> None:
    events = [memory.event(f"f{i}", T0 + i * M, name="ConsoleLogin") for i in range(5)]

    assert "(a burst: someone may be guessing the password)" in failed_logins_summary(
        events, LABEL, burst=True
    )
    assert "burst" not in failed_logins_summary(events, LABEL, burst=False)


def test_a_late_check_out_says_whether_it_was_returned_or_revoked() -> None:
    returned = memory.session(1, minutes=60, checked_in_at=T0 + 75 * M, status=RequestStatus.RETURNED)
    revoked = memory.session(2, minutes=60, status=RequestStatus.REVOKED)

    assert checkout_overdue_summary(returned, LABEL, due=T0 + 60 * M, ended=T0 + 75 * M).endswith(
        "was due back at 2026-05-04 11:00:00 UTC "
        "and was returned 15 minutes late, at 2026-05-04 11:15:00 UTC."
    )
    assert "was revoked 5 minutes late" in checkout_overdue_summary(
        revoked, LABEL, due=T0 + 60 * M, ended=T0 + 65 * M
    )
    assert checkout_overdue_summary(revoked, LABEL, due=T0 + 60 * M, ended=None).endswith(
        "and is still checked out."
    )


def test_automatic_triage_notes_say_why() -> None:
    assert resolve_note(K.UNAPPROVED_ROOT_USAGE, ["BG-1", "BG-2"]) == (
        "Resolved automatically: matched to session BG-1, BG-2 on re-evaluation."
    )
    assert (
        resolve_note(K.CHECKOUT_OVERDUE, []) == "Resolved automatically: no longer applies on re-evaluation."
    )
    assert (
        reopen_note(reopen_reason(gained_events=True)) == "Reopened automatically: new root events arrived."
    )


def test_an_alert_subject_names_the_finding_its_kind_and_the_account() -> None:
    assert alert_subject("F-260504-ABCDEF", K.UNAPPROVED_ROOT_USAGE, LABEL) == (
        f"F-260504-ABCDEF Root used without an approved check-out: {LABEL}"
    )
