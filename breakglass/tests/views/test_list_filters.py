"""Search, filters and keyset pages on approvals, active sessions, the custody board, drills and
access reviews (issue 11, item 4; issue 13: every list pages by keyset)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from breakglass.choices import CampaignStatus, ReviewSubject
from breakglass.models import AccessRequest, AwsAccount, ReviewCampaign, ReviewItem
from breakglass.tests.factories import (
    AwsAccountFactory,
    GrantFactory,
    MfaDeviceFactory,
    PhysicalCredentialFactory,
)
from breakglass.tests.lifecycle_helpers import active, approve, make_request
from portal.paging import DEFAULT_PAGE_SIZE
from portal.policy import Role

pytestmark = pytest.mark.django_db


def _codes(response: Any) -> list[str]:
    assert response.status_code == 200
    return [r.code for r in response.context["page"]]


@pytest.fixture
def web(approver: Any, custodian: Any) -> AwsAccount:
    account = AwsAccountFactory(name="web-prod", account_id="555566667777", approval_quorum=1)
    account.approvers.set([approver])
    account.custodians.set([custodian])
    return account


# --- Approvals -----------------------------------------------------------------------------------


def test_approvals_are_searched_by_account_and_the_search_stays_in_the_page_links(
    client: Client, approver: Any, requester: Any, account: Any, web: AwsAccount
) -> None:
    payments = make_request(requester, account)
    other = make_request(requester, web)
    client.force_login(approver)
    url = reverse("breakglass:request_approvals")

    assert _codes(client.get(url)) == [payments.code, other.code]  # the longest wait first
    assert _codes(client.get(url, {"q": "web-pr"})) == [other.code]
    assert _codes(client.get(url, {"q": "5555-6666"})) == [other.code]
    assert _codes(client.get(url, {"q": payments.code.lower()})) == [payments.code]


def test_decided_by_me_lists_what_the_approver_decided_newest_first(
    client: Client, approver: Any, requester: Any, account: Any, web: AwsAccount
) -> None:
    older = approve(make_request(requester, account), approver)
    newer = approve(make_request(requester, web), approver)
    waiting = make_request(requester, account, starts_at=timezone.now() + timedelta(hours=1))
    client.force_login(approver)
    url = reverse("breakglass:request_approvals")

    decided = client.get(url, {"show": "decided"})

    assert _codes(decided) == [newer.code, older.code]
    assert "Decided by me" in decided.content.decode()
    assert _codes(client.get(url)) == [waiting.code]
    assert _codes(client.get(url, {"show": "decided", "q": "web"})) == [newer.code]


def test_approvals_page_by_keyset_oldest_first(
    client: Client, approver: Any, account: Any, make_persona: Any
) -> None:
    people = [make_persona(f"req{n:02d}", Role.REQUESTER) for n in range(DEFAULT_PAGE_SIZE + 2)]
    made = [make_request(person, account) for person in people]
    client.force_login(approver)
    url = reverse("breakglass:request_approvals")

    first = client.get(url)
    second = client.get(url, {"cursor": first.context["page"].next_cursor})

    assert _codes(first) == [r.code for r in made[:DEFAULT_PAGE_SIZE]]
    assert _codes(second) == [r.code for r in made[DEFAULT_PAGE_SIZE:]]
    assert "Waiting less" in first.content.decode()


# --- Active sessions and the custody board ------------------------------------------------------


def test_active_sessions_are_searched_by_account(
    client: Client, auditor: Any, approver: Any, requester: Any, account: Any, web: AwsAccount
) -> None:
    payments = active(make_request(requester, account), approver)
    other = active(make_request(requester, web), approver)
    client.force_login(auditor)
    url = reverse("breakglass:request_active")

    assert set(_codes(client.get(url))) == {payments.code, other.code}
    assert _codes(client.get(url, {"q": "payments"})) == [payments.code]
    assert "No active session matches" in client.get(url, {"q": "nothing-like-it"}).content.decode()


def test_the_custody_board_is_searched_by_account_label_or_serial(
    client: Client, custodian: Any, account: Any, web: AwsAccount
) -> None:
    key = MfaDeviceFactory(label="YubiKey payments", serial_number="FIDO-0001")
    token = MfaDeviceFactory(label="Token web", serial_number="TOTP-0099")
    account.mfa_devices.add(key, through_defaults={"device_kind": key.kind})
    web.mfa_devices.add(token, through_defaults={"device_kind": token.kind})
    client.force_login(custodian)
    url = reverse("breakglass:custody_board")

    def labels(**query: str) -> set[str]:
        return {device.label for device in client.get(url, query).context["devices"]}

    assert labels() == {"YubiKey payments", "Token web"}
    assert labels(q="totp-0099") == {"Token web"}
    assert labels(q="payments-prod") == {"YubiKey payments"}
    assert labels(q="5555") == {"Token web"}


def test_the_custody_boards_passwords_page_on_their_own_cursor(client: Client, auditor: Any) -> None:
    made = [PhysicalCredentialFactory() for _ in range(DEFAULT_PAGE_SIZE + 2)]
    client.force_login(auditor)
    url = reverse("breakglass:custody_board")

    first = client.get(url)
    credentials = first.context["credentials"]
    second = client.get(url, {"passwords": credentials.next_cursor})

    assert len(credentials) == DEFAULT_PAGE_SIZE
    assert {c.pk for c in credentials} | {c.pk for c in second.context["credentials"]} == {c.pk for c in made}
    assert f"passwords={credentials.next_cursor}" in first.content.decode()
    # The devices keep their own page while the passwords turn theirs.
    assert second.context["devices"].previous_cursor is None


# --- Drills --------------------------------------------------------------------------------------


def test_drills_list_overdue_accounts_first_and_filter_by_state_and_account(
    client: Client, auditor: Any, settings: Any
) -> None:
    settings.PORTAL_DRILL_INTERVAL_DAYS = 90
    now = timezone.now()
    overdue = AwsAccountFactory(name="old-account")
    soon = AwsAccountFactory(name="soon-account")
    AwsAccountFactory(name="fresh-account")
    AwsAccount.objects.filter(pk=overdue.pk).update(created_at=now - timedelta(days=120))
    AwsAccount.objects.filter(pk=soon.pk).update(created_at=now - timedelta(days=85))
    client.force_login(auditor)
    url = reverse("breakglass:drill_list")

    def names(**query: str) -> list[str]:
        response = client.get(url, query)
        assert response.status_code == 200
        return [status.account.name for status in response.context["statuses"]]

    assert names() == ["old-account", "soon-account", "fresh-account"]
    assert names(state="overdue") == ["old-account"]
    assert names(state="due_soon") == ["soon-account"]
    assert names(q="fresh") == ["fresh-account"]
    statuses = client.get(url).context["statuses"]
    assert [s.state for s in statuses] == ["overdue", "due soon", "up to date"]


def test_drills_page_by_keyset_in_due_order(client: Client, auditor: Any) -> None:
    now = timezone.now()
    for n in range(DEFAULT_PAGE_SIZE + 3):
        account = AwsAccountFactory(name=f"acct-{n:03d}")
        AwsAccount.objects.filter(pk=account.pk).update(created_at=now - timedelta(days=n))
    client.force_login(auditor)
    url = reverse("breakglass:drill_list")

    first = client.get(url)
    second = client.get(url, {"cursor": first.context["page"].next_cursor})

    names = [s.account.name for s in first.context["statuses"]] + [
        s.account.name for s in second.context["statuses"]
    ]
    # Created longest ago, due soonest: first.
    assert names == [f"acct-{n:03d}" for n in range(DEFAULT_PAGE_SIZE + 2, -1, -1)]


# --- Access reviews ------------------------------------------------------------------------------


def test_a_campaigns_items_and_the_review_inbox_page_by_keyset(
    client: Client, administrator: Any, approver: Any, account: Any, make_persona: Any
) -> None:
    now = timezone.now()
    campaign = ReviewCampaign.objects.create(
        period_start=now - timedelta(days=90), period_end=now, deadline=now + timedelta(days=14)
    )
    grants = [
        GrantFactory(user=make_persona(f"holder{n:02d}", Role.REQUESTER), account=account)
        for n in range(DEFAULT_PAGE_SIZE + 4)
    ]
    ReviewItem.objects.bulk_create(
        ReviewItem(
            campaign=campaign,
            subject=ReviewSubject.GRANT,
            account=account,
            person_id=grant.user_id,
            grant=grant,
        )
        for grant in grants
    )
    assert campaign.status == CampaignStatus.OPEN

    client.force_login(administrator)
    detail = reverse("breakglass:review_campaign_detail", kwargs={"uuid": campaign.uuid})
    first = client.get(detail)
    second = client.get(detail, {"cursor": first.context["page"].next_cursor})
    assert len(first.context["items"]) == DEFAULT_PAGE_SIZE
    assert len(second.context["items"]) == 4

    client.force_login(approver)
    inbox = client.get(reverse("breakglass:review_inbox"))
    assert len(inbox.context["items"]) == DEFAULT_PAGE_SIZE
    later = client.get(reverse("breakglass:review_inbox"), {"cursor": inbox.context["page"].next_cursor})
    assert len(later.context["items"]) == 4
    assert not AccessRequest.objects.exists()
