"""The AssumeRoot audit across every centralised account: one run at a time, rate-limited, progress
saved per account, results as posture findings, a ledger entry when it starts and when it ends; the
command and the pages (administrators start it with step-up; auditors may watch)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audits.assume_root.models import RootAuditRunStatus
from audits.choices import FindingKind, FindingStatus
from audits.models import Finding, IssuedRootKey, RootAuditRun
from audits.posture.root_audit import root_audit_run, root_audit_start
from audits.tests.posture_support import RootPostureStore, set_contacts
from breakglass.choices import OrganizationState
from ledger.models import LedgerEntry
from portal.errors import DomainError
from portal.testing import step_up

pytestmark = pytest.mark.django_db

LEAKY, CLEAN, CLASSIC, SUSPENDED = "222222222222", "333333333333", "444444444444", "555555555555"


@pytest.fixture
def organization(
    posture_aws: RootPostureStore, make_account: Callable[..., Any], settings: Any
) -> RootPostureStore:
    settings.PORTAL_ROOT_AUDIT_INTERVAL_MS = 0
    make_account(LEAKY, name="payments-prod", centralised=True, hardware=False)
    make_account(CLEAN, name="data-prod", centralised=True, hardware=False)
    make_account(CLASSIC, name="legacy")
    suspended = make_account(SUSPENDED, name="old-sandbox", centralised=True, hardware=False)
    suspended.organization_state = OrganizationState.SUSPENDED
    suspended.save()
    for account in (LEAKY, CLEAN, CLASSIC):
        set_contacts(account, "BILLING", "OPERATIONS", "SECURITY")
    leaky = posture_aws.root(LEAKY)
    leaky.access_keys, leaky.certificates = 1, 1
    clean = posture_aws.root(CLEAN)
    clean.password, clean.mfa = False, False
    return posture_aws


def open_kinds(account_id: str) -> set[str]:
    return set(
        Finding.objects.filter(aws_account_id=account_id, status=FindingStatus.OPEN).values_list(
            "kind", flat=True
        )
    )


def test_the_audit_checks_each_centralised_account_at_the_set_pace(
    organization: RootPostureStore, administrator: Any, settings: Any
) -> None:
    settings.PORTAL_ROOT_AUDIT_INTERVAL_MS = 250
    run = root_audit_start(actor=administrator, queue=False)
    assert run.accounts_total == 3  # the classic account is not the audit's
    pauses: list[float] = []

    finished = root_audit_run(run.pk, sleep=pauses.append)

    assert finished is not None
    assert finished.status == RootAuditRunStatus.DONE
    assert pauses == [0.25, 0.25]  # between accounts, never before the first
    assert (finished.accounts_done, finished.accounts_failed) == (3, 0)
    lines = {line["account_id"]: line for line in finished.results}
    assert set(lines) == {LEAKY, CLEAN, SUSPENDED}
    assert set(lines[LEAKY]["failing"]) >= {"root_access_keys", "root_signing_certificates", "root_password"}
    assert lines[CLEAN]["failing"] == []
    assert lines[SUSPENDED]["skipped"] is True
    assert "suspended" in lines[SUSPENDED]["error"]
    assert open_kinds(LEAKY) >= {
        FindingKind.ROOT_ACCESS_KEYS_PRESENT,
        FindingKind.ROOT_SIGNING_CERTIFICATE_PRESENT,
        FindingKind.ROOT_PASSWORD_PRESENT_IN_CENTRALISED_ACCOUNT,
    }
    assert open_kinds(CLEAN) == set()
    keys = IssuedRootKey.objects.filter(reference=run.reference)
    assert sorted(keys.values_list("account_id", flat=True)) == [LEAKY, CLEAN]
    assert set(keys.values_list("purpose", flat=True)) == {"posture"}
    assert [call["target"] for call in organization.assume_root_calls] == [LEAKY, CLEAN]
    assert organization.refused_actions() == []
    started = LedgerEntry.objects.get(action="root_audit.started")
    assert started.actor_id == administrator.pk
    ended = LedgerEntry.objects.get(action="root_audit.finished")
    assert ended.data["checked"] == 3
    assert ended.data["failing_checks"] >= 3
    assert root_audit_run(run.pk) is None  # a redelivered task leaves a finished run alone


def test_one_account_refused_is_that_accounts_line(
    organization: RootPostureStore, administrator: Any
) -> None:
    organization.fail("AssumeRoot", LEAKY, "AccessDenied", "explicit deny in a service control policy")
    run = root_audit_start(actor=administrator, queue=False)
    finished = root_audit_run(run.pk, sleep=lambda _: None)
    assert finished is not None
    assert finished.status == RootAuditRunStatus.DONE
    assert finished.accounts_failed == 1
    [line] = [line for line in finished.results if not line["ok"]]
    assert line["account_id"] == LEAKY
    assert "explicit deny in a service control policy" in line["error"]


def test_without_root_sessions_the_run_fails_with_its_reason(
    organization: RootPostureStore, administrator: Any
) -> None:
    organization.features = {"RootCredentialsManagement"}
    run = root_audit_start(actor=administrator, queue=False)
    finished = root_audit_run(run.pk)
    assert finished is not None
    assert finished.status == RootAuditRunStatus.FAILED
    assert "RootSessions off" in finished.error
    assert organization.assume_root_calls == []
    assert LedgerEntry.objects.get(action="root_audit.failed").data["error"] == finished.error


def test_only_administrators_start_it_and_only_one_at_a_time(
    organization: RootPostureStore, administrator: Any, auditor: Any
) -> None:
    with pytest.raises(DomainError):
        root_audit_start(actor=auditor, queue=False)
    root_audit_start(actor=administrator, queue=False)
    with pytest.raises(DomainError, match="already queued"):
        root_audit_start(actor=administrator, queue=False)
    assert RootAuditRun.objects.count() == 1


def test_a_run_that_lost_its_worker_does_not_block_the_next(
    organization: RootPostureStore, administrator: Any, settings: Any
) -> None:
    lost = root_audit_start(actor=administrator, queue=False)
    quiet = timezone.now() - timedelta(minutes=settings.PORTAL_INGEST_STALE_MINUTES + 1)
    RootAuditRun.objects.filter(pk=lost.pk).update(status=RootAuditRunStatus.RUNNING, updated_at=quiet)
    fresh = root_audit_start(actor=administrator, queue=False)
    lost.refresh_from_db()
    assert lost.status == RootAuditRunStatus.FAILED
    assert "worker was lost" in lost.error
    assert LedgerEntry.objects.get(action="root_audit.failed").target_id == str(lost.uuid)
    assert fresh.status == RootAuditRunStatus.QUEUED


def test_the_command_runs_the_audit_and_names_each_account(organization: RootPostureStore) -> None:
    out = StringIO()
    call_command("check_posture", "--assume-root-audit", stdout=out)
    text = out.getvalue()
    assert f"{LEAKY} payments-prod: failing" in text
    assert f"{CLEAN} data-prod: ok" in text
    assert f"{SUSPENDED} old-sandbox: not checked" in text
    assert "3 of 3 centralised account(s); not checked: 0" in text
    assert LedgerEntry.objects.get(action="root_audit.started").actor_id is None


def test_the_command_exits_1_when_an_account_could_not_be_audited(organization: RootPostureStore) -> None:
    organization.fail("AssumeRoot", CLEAN, "RegionDisabledException", "STS is not activated in this region")
    with pytest.raises(CommandError, match="1 account"):
        call_command("check_posture", "--assume-root-audit", stdout=StringIO())


def test_an_administrator_starts_it_from_the_posture_page_with_step_up(
    client: Client,
    organization: RootPostureStore,
    administrator: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(administrator)
    page = client.get(reverse("audits:organization_posture")).content.decode()
    assert "Audit root credentials now" in page
    asked = client.post(reverse("audits:root_audit_begin"))
    assert asked.status_code == 302
    assert "reauthenticate" in asked["Location"]
    assert not RootAuditRun.objects.exists()

    step_up(client, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("audits:root_audit_begin"))
    run = RootAuditRun.objects.get()
    assert started["Location"] == reverse("audits:root_audit_detail", kwargs={"uuid": run.uuid})
    run.refresh_from_db()
    assert run.status == RootAuditRunStatus.DONE  # eager: the worker ran it on commit

    detail = client.get(started["Location"]).content.decode()
    assert "3 of 3 accounts" in detail
    assert "payments-prod" in detail
    assert "Failing: " in detail
    assert "suspended in AWS Organizations" in detail
    state = json.loads(client.get(reverse("audits:root_audit_status", kwargs={"uuid": run.uuid})).content)
    assert state == {
        "status": "done",
        "status_label": "Done",
        "done": 3,
        "total": 3,
        "not_checked": 0,
        "finished": True,
        "error": "",
    }
    posture = client.get(reverse("audits:organization_posture")).content.decode()
    assert "Last audit:" in posture


def test_auditors_watch_but_do_not_start_and_approvers_see_nothing(
    client: Client, organization: RootPostureStore, administrator: Any, auditor: Any, approver: Any
) -> None:
    run = root_audit_start(actor=administrator, queue=False)
    detail = reverse("audits:root_audit_detail", kwargs={"uuid": run.uuid})
    client.force_login(auditor)
    step_up(client, auditor)
    assert client.get(detail).status_code == 200
    assert (
        "Audit root credentials now"
        not in client.get(reverse("audits:organization_posture")).content.decode()
    )
    assert client.post(reverse("audits:root_audit_begin")).status_code == 403
    client.force_login(approver)
    assert client.get(detail).status_code == 403
    assert client.get(reverse("audits:root_audit_status", kwargs={"uuid": run.uuid})).status_code == 403
