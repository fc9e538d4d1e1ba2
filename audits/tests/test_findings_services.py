"""Triage of findings: who may, what it needs, what it records; and the selectors pages share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.http import Http404

from audits.choices import FindingKind, FindingStatus
from audits.models import Finding
from audits.reconcile import reconcile
from audits.selectors import FindingFilter, finding_for, findings_visible_to, ingestion_runs_visible_to
from audits.services import finding_triage
from audits.tests.findings_support import (
    UNKNOWN_ACCOUNT_ID,
    hours_ago,
    ingest_records,
    make_account,
    root_call,
    root_login,
)
from ledger.models import LedgerEntry
from portal.errors import DomainError

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(approver: Any, custodian: Any) -> Any:
    return make_account(approver, custodian)


@pytest.fixture
def unapproved(tmp_path: Path, account: Any) -> Finding:
    ingest_records(tmp_path, [root_call(when=hours_ago(3), event_id="u1")])
    return Finding.objects.get(kind=FindingKind.UNAPPROVED_ROOT_USAGE)


@pytest.mark.parametrize(
    "status", [FindingStatus.ACKNOWLEDGED, FindingStatus.RESOLVED, FindingStatus.FALSE_POSITIVE]
)
def test_an_auditor_triages_a_finding_with_a_note_recorded_in_the_ledger(
    unapproved: Finding, auditor: Any, status: str
) -> None:
    triaged = finding_triage(
        finding=unapproved, actor=auditor, status=status, note="  Checked with the holder; see INC-42.  "
    )

    assert triaged.status == status
    assert triaged.triage_note == "Checked with the holder; see INC-42."
    assert triaged.triaged_by == auditor
    assert triaged.triaged_at is not None
    entry = LedgerEntry.objects.get(action="finding.triaged")
    assert entry.actor == auditor
    assert entry.target_id == str(unapproved.uuid)
    assert entry.data == {
        "code": unapproved.code,
        "kind": FindingKind.UNAPPROVED_ROOT_USAGE,
        "account_id": unapproved.aws_account_id,
        "from": "open",
        "to": status,
        "note": "Checked with the holder; see INC-42.",
    }


def test_an_administrator_may_triage_too(unapproved: Finding, administrator: Any) -> None:
    finding_triage(finding=unapproved, actor=administrator, status="resolved", note="Known maintenance task.")

    assert Finding.objects.get().status == FindingStatus.RESOLVED


@pytest.mark.parametrize("persona", ["requester", "approver", "custodian", "outsider"])
def test_nobody_else_may_triage(unapproved: Finding, persona: str, request: Any) -> None:
    actor = request.getfixturevalue(persona)

    with pytest.raises(DomainError, match="Only auditors and administrators"):
        finding_triage(finding=unapproved, actor=actor, status="resolved", note="Looks fine to me, really.")

    assert Finding.objects.get().status == FindingStatus.OPEN
    assert not LedgerEntry.objects.filter(action="finding.triaged").exists()


@pytest.mark.parametrize("note", ["", "   ", "ok"])
def test_a_triage_needs_a_note(unapproved: Finding, auditor: Any, note: str) -> None:
    with pytest.raises(DomainError) as error:
        finding_triage(finding=unapproved, actor=auditor, status="resolved", note=note)

    assert "note" in error.value.message_dict
    assert Finding.objects.get().status == FindingStatus.OPEN


def test_a_triage_cannot_set_a_finding_open_or_anything_else(unapproved: Finding, auditor: Any) -> None:
    for status in ("open", "deleted"):
        with pytest.raises(DomainError) as error:
            finding_triage(finding=unapproved, actor=auditor, status=status, note="Trying something odd.")
        assert "status" in error.value.message_dict


def test_a_false_positive_is_reopened_when_new_root_events_join_it(
    tmp_path: Path, unapproved: Finding, auditor: Any
) -> None:
    finding_triage(
        finding=unapproved, actor=auditor, status="false_positive", note="Our own pen test, agreed."
    )
    reconcile()
    assert Finding.objects.get().status == FindingStatus.FALSE_POSITIVE

    ingest_records(tmp_path, [root_call(when=unapproved.first_seen.replace(second=59), event_id="u2")])

    reopened = Finding.objects.get()
    assert reopened.status == FindingStatus.OPEN
    assert reopened.triaged_by is None
    assert reopened.triage_note == "Reopened automatically: new root events arrived."
    assert LedgerEntry.objects.filter(action="finding.reopened").exists()


def test_a_resolved_finding_without_new_events_stays_resolved(unapproved: Finding, auditor: Any) -> None:
    finding_triage(finding=unapproved, actor=auditor, status="resolved", note="Holder forgot to check out.")

    assert reconcile() == 0
    assert Finding.objects.get().status == FindingStatus.RESOLVED


# --- Selectors ----------------------------------------------------------------------------------------


def test_auditors_see_every_finding_and_approvers_those_of_their_accounts(
    tmp_path: Path, account: Any, auditor: Any, approver: Any, requester: Any, outsider: Any
) -> None:
    ingest_records(
        tmp_path,
        [root_call(when=hours_ago(2)), root_call(when=hours_ago(2), account=UNKNOWN_ACCOUNT_ID)],
    )

    assert findings_visible_to(user=auditor).count() == 2
    assert findings_visible_to(user=None).count() == 2
    assert [f.aws_account_id for f in findings_visible_to(user=approver)] == [account.account_id]
    assert findings_visible_to(user=requester).count() == 0
    assert findings_visible_to(user=outsider).count() == 0
    unknown = Finding.objects.get(account__isnull=True)
    with pytest.raises(Http404):
        finding_for(user=approver, uuid=unknown.uuid)
    assert finding_for(user=auditor, uuid=unknown.uuid) == unknown


def test_findings_are_filtered_by_kind_severity_status_account_and_time(
    tmp_path: Path, account: Any, auditor: Any
) -> None:
    ingest_records(
        tmp_path,
        [
            root_call(when=hours_ago(50)),
            root_login(when=hours_ago(2), mfa="No"),
            root_login(when=hours_ago(2), success=False, account=UNKNOWN_ACCOUNT_ID),
        ],
    )

    def codes(**filters: Any) -> set[str]:
        return {f.kind for f in findings_visible_to(user=auditor, filters=FindingFilter(**filters))}

    assert codes(kind="root_login_failed") == {"root_login_failed"}
    assert codes(severity="medium") == {"root_login_failed"}
    assert codes(account_id=UNKNOWN_ACCOUNT_ID) == {"root_login_failed"}
    assert codes(status="open") == {"unapproved_root_usage", "root_login_without_mfa", "root_login_failed"}
    assert codes(since=hours_ago(10)) == {
        "unapproved_root_usage",
        "root_login_without_mfa",
        "root_login_failed",
    }
    assert codes(until=hours_ago(10)) == {"unapproved_root_usage"}


def test_ingestion_runs_are_for_auditors_and_administrators(
    tmp_path: Path, auditor: Any, administrator: Any, approver: Any
) -> None:
    ingest_records(tmp_path, [root_call(when=hours_ago(2))])

    assert ingestion_runs_visible_to(user=auditor).count() == 1
    assert ingestion_runs_visible_to(user=administrator).count() == 1
    assert ingestion_runs_visible_to(user=approver).count() == 0


def test_a_triage_note_longer_than_the_prose_maximum_is_refused(unapproved: Finding, auditor: Any) -> None:
    with pytest.raises(DomainError, match="At most 4,000 characters"):
        finding_triage(finding=unapproved, actor=auditor, status=FindingStatus.RESOLVED, note="x" * 1_000_000)
    unapproved.refresh_from_db()
    assert unapproved.status == FindingStatus.OPEN
