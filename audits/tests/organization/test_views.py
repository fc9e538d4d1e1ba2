"""The organization page: who sees it, what it shows, and the administrators' step-up "sync now"."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client

from audits.choices import SyncStatus, SyncTrigger
from audits.models import OrganizationSync
from audits.organization import service
from audits.organization.service import organization_sync
from audits.tasks import sync_organization_run
from audits.tests.organization_support import failing_organizations_call
from breakglass.models import AwsAccount
from portal.testing import step_up

pytestmark = pytest.mark.django_db

PAGE = "/audit/organization/"
SYNC_NOW = "/audit/organization/sync/"


def test_an_auditor_sees_what_the_last_sync_changed_and_the_ungoverned_accounts(
    client: Client, auditor: Any, org: dict[str, str]
) -> None:
    organization_sync(trigger=SyncTrigger.COMMAND)
    client.force_login(auditor)

    response = client.get(PAGE)

    assert response.status_code == 200
    body = response.content.decode()
    assert "What the last sync changed" in body
    assert "New account (ungoverned)" in body
    assert "Root/Workloads/Prod" in body
    assert "Ungoverned accounts (5)" in body
    assert "Sync now" not in body  # auditors read; administrators sync
    assert "payments@example.com" not in body  # root e-mails are never shown in full


def test_a_failed_sync_shows_its_reason(client: Client, administrator: Any, org: dict[str, str]) -> None:
    with failing_organizations_call("list_roots", "AccessDeniedException", "not allowed"):
        run = organization_sync(trigger=SyncTrigger.COMMAND)
    client.force_login(administrator)

    for url in (PAGE, f"/audit/organization/syncs/{run.uuid}/"):
        body = client.get(url).content.decode()
        assert "AccessDeniedException: not allowed" in body
        assert "nothing was changed" in body


def test_a_second_sync_with_nothing_new_says_so(client: Client, auditor: Any, org: dict[str, str]) -> None:
    organization_sync(trigger=SyncTrigger.COMMAND)
    organization_sync(trigger=SyncTrigger.COMMAND)
    client.force_login(auditor)
    assert "Nothing changed" in client.get(PAGE).content.decode()


def test_people_without_the_role_are_refused(client: Client, approver: Any, requester: Any) -> None:
    for person in (approver, requester):
        client.force_login(person)
        assert client.get(PAGE).status_code == 403
        assert client.post(SYNC_NOW).status_code == 403


def test_an_unknown_sync_is_404(client: Client, auditor: Any) -> None:
    client.force_login(auditor)
    assert client.get(f"/audit/organization/syncs/{uuid.uuid4()}/").status_code == 404


def test_an_auditor_may_not_start_a_sync(client: Client, auditor: Any) -> None:
    client.force_login(auditor)
    step_up(client, auditor)
    assert client.post(SYNC_NOW).status_code == 403
    assert not OrganizationSync.objects.exists()


def test_sync_now_needs_a_fresh_step_up(client: Client, administrator: Any) -> None:
    client.force_login(administrator)
    response = client.post(SYNC_NOW)
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]
    assert not OrganizationSync.objects.exists()


def test_sync_now_queues_a_run_that_a_worker_executes(
    client: Client,
    administrator: Any,
    org: dict[str, str],
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handed: list[int] = []
    monkeypatch.setattr(service, "_hand_to_worker", handed.append)
    client.force_login(administrator)
    step_up(client, administrator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SYNC_NOW)

    run = OrganizationSync.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/audit/organization/syncs/{run.uuid}/"
    assert (run.status, run.trigger, run.triggered_by) == (
        SyncStatus.QUEUED,
        SyncTrigger.ON_DEMAND,
        administrator,
    )
    assert handed == [run.pk]
    assert "A worker is reading the organization" in client.get(response["Location"]).content.decode()

    assert sync_organization_run(run.pk) == SyncStatus.SUCCEEDED
    run.refresh_from_db()
    assert run.changes_made == 5
    assert AwsAccount.objects.count() == 5
    # The ledger names the administrator who asked for the sync.
    from ledger.models import LedgerEntry

    assert set(
        LedgerEntry.objects.filter(action="organization.account_added").values_list("actor_id", flat=True)
    ) == {administrator.pk}
    # A redelivered message does nothing more.
    assert sync_organization_run(run.pk) is None


def test_the_account_pages_show_ungoverned_accounts(
    client: Client, administrator: Any, org: dict[str, str]
) -> None:
    organization_sync(trigger=SyncTrigger.COMMAND)
    account = AwsAccount.objects.get(account_id=org["Payments"])
    client.force_login(administrator)

    listing = client.get("/inventory/").content.decode()
    detail = client.get(f"/inventory/accounts/{account.uuid}/").content.decode()

    assert "Ungoverned" in listing
    assert "Root/Workloads/Prod" in listing
    assert "Nobody may request its root" in detail
    assert "Team=pay" in detail


def test_past_syncs_page_by_keyset_newest_first(client: Client, auditor: Any) -> None:
    made = [
        OrganizationSync.objects.create(trigger=SyncTrigger.SCHEDULE, status=SyncStatus.SUCCEEDED)
        for _ in range(25)
    ]
    client.force_login(auditor)
    url = "/audit/organization/"

    first = client.get(url)
    second = client.get(url, {"cursor": first.context["page"].next_cursor})

    listed = [sync.pk for sync in first.context["page"]] + [sync.pk for sync in second.context["page"]]
    assert listed == [sync.pk for sync in reversed(made)]
    assert 'rel="next"' in first.content.decode()
    assert second.context["page"].next_cursor is None
