"""The rules of drills and reachability in breakglass/rules.py, asked directly."""

from __future__ import annotations

from typing import Any

import pytest

from breakglass import reachability, rules
from breakglass.models import Drill

pytestmark = pytest.mark.django_db


def test_only_an_administrator_schedules_a_custodian_other_than_themselves(
    administrator: Any, approver: Any, custodian: Any, account: Any
) -> None:
    assert rules.refusal_to_schedule_drill(administrator, account, custodian) is None
    assert "Only an administrator" in str(rules.refusal_to_schedule_drill(approver, account, custodian))
    assert "custodian" in str(rules.refusal_to_schedule_drill(administrator, account, approver))
    account.custodians.add(administrator)
    assert "yourself" in str(rules.refusal_to_schedule_drill(administrator, account, administrator))


def test_a_drill_rests_on_its_performer_being_a_custodian_not_on_a_grant(
    drill: Drill, custodian: Any, drilled_account: Any
) -> None:
    assert rules.refusal_of_eligibility(drill.request) is None
    assert rules.refusal_to_check_out(custodian, drill.request) is None
    drilled_account.custodians.remove(custodian)
    assert "no longer a custodian" in str(rules.refusal_of_eligibility(drill.request))


def test_only_the_approver_asked_may_confirm_once(account: Any, approver: Any, administrator: Any) -> None:
    check = reachability.reachability_ask(approver=approver)
    assert rules.refusal_to_confirm_reachability(approver, check) is None
    assert rules.refusal_to_confirm_reachability(administrator, check) is not None
    confirmed = reachability.reachability_confirm(check=check, approver=approver)
    assert "already" in str(rules.refusal_to_confirm_reachability(approver, confirmed))
