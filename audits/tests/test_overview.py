"""``audits.overview``: the auditors' overview numbers, only for those who see every account, in the
same few queries whatever the size of the data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from audits import overview
from audits.tests.overview_support import finding, root_event
from breakglass import custody
from breakglass.models import AccessRequest, AwsAccount, Grant
from breakglass.tests.factories import AwsAccountFactory, GrantFactory
from breakglass.tests.lifecycle_helpers import active, make_request
from portal import policy
from portal.policy import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(approver: Any, custodian: Any) -> Any:
    made = AwsAccountFactory(name="payments-prod", account_id="123456789012", approval_quorum=1)
    made.approvers.set([approver])
    made.custodians.set([custodian])
    return made


def test_only_auditors_and_administrators_get_an_overview(
    auditor: Any, administrator: Any, approver: Any, requester: Any
) -> None:
    now = timezone.now()
    assert overview.overview(user=auditor, now=now) is not None
    assert overview.overview(user=administrator, now=now) is not None
    assert overview.overview(user=approver, now=now) is None
    assert overview.overview(user=requester, now=now) is None


def test_root_events_are_counted_per_week_and_account(account: Any, auditor: Any) -> None:
    now = timezone.now()
    for days in (0, 0, 7):
        root_event(account_id=account.account_id, when=now - timedelta(days=days))
    root_event(account_id="999988887777", when=now)
    root_event(account_id=account.account_id, when=now - timedelta(weeks=20))  # before the chart

    weeks, series = overview.root_events_per_week(now=now)

    assert len(weeks) == overview.WEEKS
    assert series["payments-prod"][-1] == 2
    assert series["payments-prod"][-2] == 1
    assert sum(series["payments-prod"]) == 3
    assert series["999988887777 (unknown)"][-1] == 1


def test_accounts_past_the_fifth_share_one_series(auditor: Any) -> None:
    now = timezone.now()
    for i in range(7):
        for _ in range(i + 1):
            root_event(account_id=f"{100000000000 + i}", when=now)
    _, series = overview.root_events_per_week(now=now)
    assert len(series) == overview.ACCOUNTS_DRAWN + 1
    assert series[overview.OTHER_ACCOUNTS][-1] == 1 + 2


def test_open_findings_are_counted_by_severity(account: Any) -> None:
    now = timezone.now()
    finding(kind="unapproved_root_usage", severity="critical", account=account, when=now)
    finding(kind="root_login_failed", severity="medium", account=account, when=now)
    resolved = finding(kind="root_login_failed", severity="medium", account=account, when=now)
    resolved.status = "resolved"
    resolved.save()
    assert overview.open_findings_by_severity() == [
        ("critical", "Critical", 1),
        ("high", "High", 0),
        ("medium", "Medium", 1),
        ("low", "Low", 0),
    ]


def test_sessions_per_month_with_the_median_hours_to_approval_and_rotation(
    requester: Any, account: Any, approver: Any, custodian: Any
) -> None:
    now = timezone.now()
    for hours_to_approval in (1, 3, 8):
        request = active(make_request(requester, account), approver)
        AccessRequest.objects.filter(pk=request.pk).update(
            created_at=request.approved_at - timedelta(hours=hours_to_approval)
        )
        custody.access_request_check_in(request=request, actor=requester, work_done="Closed as planned.")
        AccessRequest.objects.filter(pk=request.pk).update(
            status="closed", rotation_confirmed_at=timezone.now() + timedelta(hours=2)
        )
    months, sessions, approval, rotation = overview.sessions_per_month(now=now)
    assert len(months) == overview.MONTHS
    assert sessions[-1] == 3
    assert approval[-1] == 3.0  # the median of 1, 3 and 8 hours
    assert rotation[-1] == 2.0
    assert approval[0] is None


def test_accounts_with_grants_nobody_reviewed_in_time_are_overdue(
    requester: Any, account: Any, settings: Any, make_persona: Any
) -> None:
    settings.PORTAL_REVIEW_INTERVAL_DAYS = 90
    now = timezone.now()
    old = GrantFactory(user=requester, account=account)
    Grant.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=100))
    reviewed = GrantFactory(user=make_persona("rob.requester", Role.REQUESTER), account=account)
    Grant.objects.filter(pk=reviewed.pk).update(
        created_at=now - timedelta(days=200), last_reviewed_at=now - timedelta(days=10)
    )
    fresh_account = AwsAccountFactory(name="web-staging", account_id="210987654321")
    GrantFactory(user=requester, account=fresh_account)

    overdue, total = overview.reviews_overdue(now=now)

    assert [(item.name, item.grants) for item in overdue] == [("payments-prod", 1)]
    assert total == 1


@pytest.mark.parametrize("size", [1, 6])
def test_the_overview_costs_the_same_queries_whatever_the_data(
    size: int, auditor: Any, requester: Any, approver: Any, custodian: Any, django_assert_num_queries: Any
) -> None:
    now = timezone.now()
    for i in range(size):
        account = AwsAccountFactory(name=f"acct-{i}", account_id=f"{100000000000 + i}", approval_quorum=1)
        account.approvers.set([approver])
        for week in range(size):
            event = root_event(account_id=account.account_id, when=now - timedelta(weeks=week))
            finding(
                kind="unapproved_root_usage", severity="critical", account=account, when=now, events=[event]
            )
        active(make_request(requester, account), approver)
        Grant.objects.filter(account=account).update(created_at=now - timedelta(days=400))
        AwsAccount.objects.filter(pk=account.pk).update(created_at=now - timedelta(days=400))
    policy.sees_every_account(auditor)  # roles and MFA cached on the person, as on a page

    # Computed: events per week, the drawn accounts' names; sessions; reviews overdue; drills
    # overdue; then the live open findings.
    with django_assert_num_queries(6):
        found = overview.overview(user=auditor, now=now)
    assert found is not None
    assert found.open_findings == size * size
    assert len(found.figures.reviews_overdue) == size
    assert found.figures.drills_overdue_total == size  # none of the new accounts had a drill
    # Within the minute, only the open findings are read again.
    with django_assert_num_queries(1):
        again = overview.overview(user=auditor, now=now + timedelta(seconds=30))
    assert again is not None
    assert again.figures == found.figures


def test_the_figures_are_kept_for_a_minute_then_computed_again(account: Any, auditor: Any) -> None:
    now = timezone.now()
    root_event(account_id=account.account_id, when=now)
    first = overview.overview(user=auditor, now=now)
    assert first is not None
    root_event(account_id=account.account_id, when=now)

    within = overview.overview(user=auditor, now=now + timedelta(seconds=59))
    after = overview.overview(user=auditor, now=now + timedelta(seconds=61))

    assert within is not None
    assert after is not None
    assert within.figures.events_by_account["payments-prod"][-1] == 1
    assert within.figures.as_of == now
    assert after.figures.events_by_account["payments-prod"][-1] == 2
    assert after.figures.as_of == now + timedelta(seconds=61)


def test_while_one_request_refreshes_stale_figures_the_others_show_the_stale_ones(
    account: Any, auditor: Any, django_assert_num_queries: Any
) -> None:
    now = timezone.now()
    assert overview.overview(user=auditor, now=now) is not None
    root_event(account_id=account.account_id, when=now)
    cache.add(overview._REFRESH_LOCK, True)  # another worker is computing them

    with django_assert_num_queries(1):  # the open findings only
        shown = overview.overview(user=auditor, now=now + timedelta(minutes=2))
    assert shown is not None
    assert shown.figures.as_of == now
    assert shown.figures.events_by_account == {}

    cache.delete(overview._REFRESH_LOCK)  # that worker is done (or its lock expired)
    refreshed = overview.overview(user=auditor, now=now + timedelta(minutes=2))
    assert refreshed is not None
    assert refreshed.figures.events_by_account["payments-prod"][-1] == 1
    assert cache.get(overview._REFRESH_LOCK) is None  # the refresher released the lock


def test_a_failed_refresh_releases_the_lock_and_keeps_the_stale_figures(
    auditor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    first = overview.overview(user=auditor, now=now)
    assert first is not None

    def broken(**_: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(overview, "organisation_figures", broken)
    with pytest.raises(RuntimeError):
        overview.overview(user=auditor, now=now + timedelta(minutes=2))
    assert cache.get(overview._REFRESH_LOCK) is None
    monkeypatch.undo()
    assert cache.get(overview._CACHE_KEY).as_of == now


def test_the_lists_name_the_longest_overdue_accounts_and_count_the_rest(
    auditor: Any, requester: Any, settings: Any
) -> None:
    settings.PORTAL_REVIEW_INTERVAL_DAYS = 90
    settings.PORTAL_DRILL_INTERVAL_DAYS = 90
    now = timezone.now()
    extra = overview.ACCOUNTS_LISTED + 2
    for i in range(extra):
        made = AwsAccountFactory(name=f"acct-{i:02}", account_id=f"{200000000000 + i}")
        AwsAccount.objects.filter(pk=made.pk).update(created_at=now - timedelta(days=200 + i))
        grant = GrantFactory(user=requester, account=made)
        Grant.objects.filter(pk=grant.pk).update(created_at=now - timedelta(days=100 + i))
    AwsAccountFactory(name="fresh", account_id="299999999999")

    found = overview.overview(user=auditor, now=now)

    assert found is not None
    figures = found.figures
    assert [a.name for a in figures.reviews_overdue] == [
        f"acct-{i:02}" for i in range(extra - 1, extra - 1 - overview.ACCOUNTS_LISTED, -1)
    ]
    assert figures.reviews_overdue_total == extra
    assert [a.name for a in figures.drills_overdue][:2] == [f"acct-{extra - 1:02}", f"acct-{extra - 2:02}"]
    assert len(figures.drills_overdue) == overview.ACCOUNTS_LISTED
    assert figures.drills_overdue_total == extra
