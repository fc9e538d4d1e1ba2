"""The organization's scores: each control's verdict per account (the worst of its checks), the
counts, the accounts named first, and a query count that does not grow with the controls."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.choices import PostureStatus
from audits.posture import selectors
from audits.posture.controls import CONTROLS, Check
from audits.posture.models import PostureResult
from audits.posture.selectors import PostureFilter
from breakglass.tests.factories import AwsAccountFactory

pytestmark = pytest.mark.django_db


def _result(account: Any, check: str, status: str) -> PostureResult:
    return PostureResult.objects.create(
        account=account,
        check_name=check,
        status=status,
        reason=f"{check} {status} on {account.name if account else 'the organization'}",
        checked_at=timezone.now(),
    )


@pytest.fixture
def scored() -> dict[str, Any]:
    """Contacts (CIS 1.1, three checks) per account: ``a`` fails one and passes two, ``b`` cannot be
    checked on one, ``c`` passes all, ``d`` fails one and cannot be checked on another; ``e`` and ``f``
    have the same name. The organization's own check fails."""
    accounts = {key: AwsAccountFactory(name=f"acct-{key}") for key in "abcd"}
    accounts["e"] = AwsAccountFactory(name="acct-same")
    accounts["f"] = AwsAccountFactory(name="acct-same")
    billing, operations, security = Check.CONTACT_BILLING, Check.CONTACT_OPERATIONS, Check.CONTACT_SECURITY
    statuses = {
        "a": (PostureStatus.PASS, PostureStatus.FAIL, PostureStatus.PASS),
        "b": (PostureStatus.PASS, PostureStatus.ERROR, PostureStatus.PASS),
        "c": (PostureStatus.PASS, PostureStatus.PASS, PostureStatus.PASS),
        "d": (PostureStatus.ERROR, PostureStatus.PASS, PostureStatus.FAIL),
        "e": (PostureStatus.FAIL, PostureStatus.PASS, PostureStatus.PASS),
        "f": (PostureStatus.FAIL, PostureStatus.PASS, PostureStatus.PASS),
    }
    for key, (on_billing, on_operations, on_security) in statuses.items():
        _result(accounts[key], billing, on_billing)
        _result(accounts[key], operations, on_operations)
        _result(accounts[key], security, on_security)
    _result(None, Check.CENTRAL_ROOT_MANAGEMENT, PostureStatus.FAIL)
    _result(accounts["a"], Check.ROOT_PASSWORD, PostureStatus.NOT_APPLICABLE)
    _result(accounts["b"], Check.ROOT_PASSWORD, PostureStatus.ERROR)
    return accounts


def _score(control_id: str, auditor: Any) -> selectors.ControlScore:
    (score,) = selectors.organization_scores(user=auditor, filters=PostureFilter(control=control_id))
    return score


def test_an_account_scores_the_worst_of_the_controls_checks(scored: dict[str, Any], auditor: Any) -> None:
    contacts = _score("CIS 1.1", auditor)
    assert contacts.counts == {PostureStatus.FAIL: 4, PostureStatus.ERROR: 1, PostureStatus.PASS: 1}
    # Failing first, by name then by id for equal names; then those that could not be checked.
    assert [verdict.account for verdict in contacts.failing_shown] == [
        scored["a"],
        scored["d"],
        scored["e"],
        scored["f"],
    ]
    assert [verdict.account for verdict in contacts.unchecked_shown] == [scored["b"]]
    assert contacts.failing_shown[1].reasons == ["alternate_contact_security fail on acct-d"]
    # The security contact alone (Account.1) is scored from the same results.
    assert _score("Account.1", auditor).counts == {PostureStatus.FAIL: 1, PostureStatus.PASS: 5}


def test_the_organizations_own_check_is_a_verdict_without_an_account(
    scored: dict[str, Any], auditor: Any
) -> None:
    central = _score("CIS 2.1.1", auditor)
    assert central.counts == {
        PostureStatus.FAIL: 1,
        PostureStatus.ERROR: 1,
        PostureStatus.NOT_APPLICABLE: 1,
    }
    assert [(verdict.account, verdict.reasons) for verdict in central.failing_shown] == [
        (None, ["central_root_management fail on the organization"])
    ]
    assert [verdict.account for verdict in central.unchecked_shown] == [scored["b"]]


def test_the_accounts_named_stop_at_the_limit_failing_first(
    scored: dict[str, Any], auditor: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(selectors, "ACCOUNTS_SHOWN", 3)
    contacts = _score("CIS 1.1", auditor)
    assert [verdict.account for verdict in contacts.failing_shown] == [scored["a"], scored["d"], scored["e"]]
    assert contacts.unchecked_shown == []
    assert contacts.not_shown == 2
    monkeypatch.setattr(selectors, "ACCOUNTS_SHOWN", 5)
    contacts = _score("CIS 1.1", auditor)
    assert [verdict.account for verdict in contacts.unchecked_shown] == [scored["b"]]
    assert contacts.not_shown == 0


def test_the_page_runs_as_many_queries_for_every_control_as_for_one(
    client: Client, scored: dict[str, Any], auditor: Any
) -> None:
    # Each control once read the results again (two or three queries per control): the whole page
    # must cost what one control's page costs, with failing and unchecked accounts in every control.
    for account in scored.values():
        for control in CONTROLS:
            for check in control.checks:
                if check != Check.CENTRAL_ROOT_MANAGEMENT:
                    PostureResult.objects.get_or_create(
                        account=account,
                        check_name=check,
                        defaults={
                            "status": PostureStatus.ERROR,
                            "reason": "Throttled.",
                            "checked_at": timezone.now(),
                        },
                    )
    client.force_login(auditor)
    url = reverse("audits:organization_posture")

    with CaptureQueriesContext(connection) as one:
        one_control = client.get(url, {"control": "IAM.4"})
    with CaptureQueriesContext(connection) as every:
        every_control = client.get(url)

    assert one_control.content.decode().count('class="card control"') == 1
    assert every_control.content.decode().count('class="card control"') == len(CONTROLS)
    assert len(every.captured_queries) == len(one.captured_queries)
