"""The SIEM feed reads forwards from a cursor: nothing missed, nothing twice, no more than the page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audits import siem
from audits.alerts import finding_create
from audits.services import finding_triage
from ledger import services as ledger

pytestmark = pytest.mark.django_db


def _finding(n: int) -> Any:
    now = timezone.now()
    finding = finding_create(
        key=f"siem:{n}", kind="unapproved_root_usage", severity="critical",
        first_seen=now - timedelta(hours=1), last_seen=now, summary=f"Root used ({n}).",
        aws_account_id="123456789012",
    )  # fmt: skip
    # The services write this entry with the finding (finding_create leaves it to its caller).
    ledger.record(actor=None, action="finding.raised", target=finding, data={"code": finding.code})
    return finding


def test_findings_come_in_the_order_of_their_changes_and_a_change_comes_again(auditor: Any) -> None:
    made = [_finding(n) for n in range(5)]

    first = siem.finding_batch(user=auditor, limit=3)
    rest = siem.finding_batch(user=auditor, cursor=first.cursor, limit=3)
    idle = siem.finding_batch(user=auditor, cursor=rest.cursor)

    codes = [event["finding_info"]["uid"] for event in first.events + rest.events]
    assert codes == [finding.code for finding in made]
    assert {event["activity_name"] for event in first.events + rest.events} == {"Create"}
    assert idle.events == []
    assert idle.cursor == rest.cursor  # polling again with it misses nothing

    finding_triage(finding=made[1], actor=auditor, status="resolved", note="A scheduled drill, INC-42.")
    changed = siem.finding_batch(user=auditor, cursor=idle.cursor)
    assert [event["finding_info"]["uid"] for event in changed.events] == [made[1].code]
    assert changed.events[0]["activity_name"] == "Close"
    assert changed.events[0]["unmapped"]["changed_by"]


def test_a_person_who_may_not_see_findings_gets_none(requester: Any) -> None:
    _finding(1)
    assert siem.finding_batch(user=requester).events == []


def test_the_ledger_feed_is_for_those_who_may_read_the_ledger(auditor: Any, requester: Any) -> None:
    for n in range(3):
        ledger.record(actor=None, action="test.siem", data={"n": n})

    batch = siem.ledger_batch(user=auditor, limit=2)
    more = siem.ledger_batch(user=auditor, cursor=batch.cursor)

    sequences = [event["metadata"]["sequence"] for event in batch.events + more.events]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == len(sequences) >= 3
    assert siem.ledger_batch(user=requester).events == []
    assert siem.ledger_batch(user=auditor, cursor="not-a-number").events[0]["metadata"]["sequence"] == 1
