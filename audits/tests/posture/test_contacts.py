"""Setting missing alternate contacts from the portal: the service (only missing ones, a ledger entry
each, one account's refusal alone) and the view (administrators, step-up, one account or an
environment), and the posture finding resolving on the check that follows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from django.test import Client
from django.urls import reverse

from audits.choices import FindingKind, FindingStatus
from audits.models import Finding
from audits.posture.aws import Contact
from audits.posture.contacts import alternate_contacts_set
from audits.posture.service import posture_check_all
from audits.tests.posture_support import RootPostureStore, set_contacts
from breakglass.models import AwsAccount
from ledger.models import LedgerEntry
from portal.errors import DomainError
from portal.testing import step_up

pytestmark = pytest.mark.django_db

PROD_A, PROD_B, SANDBOX = "222222222222", "333333333333", "444444444444"
SECURITY_TEAM = Contact(
    name="Cloud Security", title="Security operations", email="sec@example.com", phone="+442079460000"
)
FORM = {
    "contact_types": ["SECURITY"],
    "name": "Cloud Security",
    "title": "Security operations",
    "email": "sec@example.com",
    "phone": "+44 20 7946 0000",
}


def security_contact(account_id: str) -> dict[str, Any] | None:
    client = boto3.client("account", region_name="us-east-1")
    try:
        return dict(
            client.get_alternate_contact(AlternateContactType="SECURITY", AccountId=account_id)[
                "AlternateContact"
            ]
        )
    except client.exceptions.ResourceNotFoundException:
        return None


@pytest.fixture
def accounts(posture_aws: RootPostureStore, make_account: Callable[..., Any]) -> dict[str, Any]:
    made = {
        PROD_A: make_account(PROD_A, environment="production"),
        PROD_B: make_account(PROD_B, environment="production"),
        SANDBOX: make_account(SANDBOX, environment="sandbox"),
    }
    for account_id in made:
        set_contacts(account_id, "BILLING", "OPERATIONS")
    set_contacts(PROD_B, "SECURITY")  # already has one: must be kept
    posture_check_all()
    return made


def test_the_service_sets_only_missing_contacts_with_a_ledger_entry_each(
    accounts: dict[str, Any], administrator: Any
) -> None:
    results = alternate_contacts_set(
        actor=administrator,
        accounts=[accounts[PROD_A], accounts[PROD_B]],
        contact_types=["SECURITY", "BILLING"],
        contact=SECURITY_TEAM,
    )
    by_id = {result.account_id: result for result in results}
    assert by_id[PROD_A].set == ["SECURITY"]
    assert by_id[PROD_A].already == ["BILLING"]
    assert by_id[PROD_B].set == []
    assert security_contact(PROD_A)["Name"] == "Cloud Security"  # type: ignore[index]
    assert security_contact(PROD_B)["Name"] == "Security Team"  # type: ignore[index]  # kept
    entries = LedgerEntry.objects.filter(action="posture.contact_set")
    assert [(entry.data["account_id"], entry.data["contact_type"]) for entry in entries] == [
        (PROD_A, "SECURITY")
    ]
    assert entries[0].actor_id == administrator.pk


def test_aws_refusing_one_account_leaves_the_others_set_and_says_why(
    accounts: dict[str, Any], administrator: Any, posture_aws: RootPostureStore
) -> None:
    posture_aws.fail("PutAlternateContact", PROD_A, "AccessDeniedException", "not allowed")
    results = alternate_contacts_set(
        actor=administrator,
        accounts=[accounts[PROD_A], accounts[SANDBOX]],
        contact_types=["SECURITY"],
        contact=SECURITY_TEAM,
    )
    assert "PutAlternateContact SECURITY: AccessDeniedException: not allowed" in results[0].errors
    assert results[1].set == ["SECURITY"]
    assert security_contact(PROD_A) is None
    assert LedgerEntry.objects.filter(action="posture.contact_set_failed", data__account_id=PROD_A).exists()
    assert not LedgerEntry.objects.filter(action="posture.contact_set", data__account_id=PROD_A).exists()


def test_only_administrators_may_set_contacts(accounts: dict[str, Any], auditor: Any) -> None:
    with pytest.raises(DomainError):
        alternate_contacts_set(
            actor=auditor, accounts=[accounts[PROD_A]], contact_types=["SECURITY"], contact=SECURITY_TEAM
        )


def test_the_view_needs_a_fresh_second_factor(
    client: Client, accounts: dict[str, Any], administrator: Any
) -> None:
    client.force_login(administrator)
    url = f"{reverse('audits:contacts_fix')}?account={accounts[PROD_A].uuid}"
    response = client.post(url, FORM)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert security_contact(PROD_A) is None


def test_an_auditor_may_not_open_the_contacts_fix(
    client: Client, accounts: dict[str, Any], auditor: Any
) -> None:
    client.force_login(auditor)
    step_up(client, auditor)
    url = f"{reverse('audits:contacts_fix')}?account={accounts[PROD_A].uuid}"
    assert client.get(url).status_code == 403
    assert client.post(url, FORM).status_code == 403


def test_an_administrator_fixes_one_account_and_its_finding_resolves(
    client: Client,
    accounts: dict[str, Any],
    administrator: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    finding = Finding.objects.get(dedupe_key=f"alternate_contact_missing:{PROD_A}:SECURITY")
    assert finding.status == FindingStatus.OPEN
    client.force_login(administrator)
    step_up(client, administrator)
    url = f"{reverse('audits:contacts_fix')}?account={accounts[PROD_A].uuid}"
    assert b"Set missing alternate contacts on" in client.get(url).content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, FORM)
    assert response.status_code == 302
    assert response["Location"] == reverse("audits:account_posture", kwargs={"uuid": accounts[PROD_A].uuid})
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED
    assert LedgerEntry.objects.filter(action="posture.contact_set", data__account_id=PROD_A).count() == 1


def test_an_administrator_fixes_every_account_of_an_environment(
    client: Client,
    accounts: dict[str, Any],
    administrator: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{reverse('audits:contacts_fix')}?environment=production", FORM)
    assert security_contact(PROD_A)["Name"] == "Cloud Security"  # type: ignore[index]
    assert security_contact(SANDBOX) is None  # another environment
    assert not Finding.objects.filter(
        kind=FindingKind.ALTERNATE_CONTACT_MISSING,
        status=FindingStatus.OPEN,
        account__environment="production",
    ).exists()
    assert Finding.objects.filter(
        kind=FindingKind.ALTERNATE_CONTACT_MISSING, status=FindingStatus.OPEN, aws_account_id=SANDBOX
    ).exists()


def test_an_unknown_environment_or_account_is_a_404(
    client: Client, accounts: dict[str, Any], administrator: Any
) -> None:
    client.force_login(administrator)
    step_up(client, administrator)
    assert client.get(f"{reverse('audits:contacts_fix')}?environment=moon").status_code == 404
    assert client.get(f"{reverse('audits:contacts_fix')}?account=not-a-uuid").status_code == 404
    assert client.get(reverse("audits:contacts_fix")).status_code == 404


def test_an_administrator_fixes_every_account_of_an_ou_and_the_ous_under_it(
    client: Client,
    accounts: dict[str, Any],
    administrator: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    AwsAccount.objects.filter(account_id=PROD_A).update(ou_path="Root/Workloads/Prod")
    AwsAccount.objects.filter(account_id=SANDBOX).update(ou_path="Root/WorkloadsArchive")
    client.force_login(administrator)
    step_up(client, administrator)
    url = f"{reverse('audits:contacts_fix')}?ou=Root/Workloads"

    assert b"every account in Root/Workloads and the OUs under it" in client.get(url).content
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, FORM).status_code == 302
    assert security_contact(PROD_A)["Name"] == "Cloud Security"  # type: ignore[index]
    assert security_contact(SANDBOX) is None  # a sibling whose name merely starts the same
    assert client.get(f"{reverse('audits:contacts_fix')}?ou=Root/Nowhere").status_code == 404
