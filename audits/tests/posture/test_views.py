"""The posture pages: who sees them, what they show, and the check-now button."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audits.choices import FindingStatus
from audits.models import Finding
from audits.posture.service import posture_check_all
from audits.tests.posture_support import RootPostureStore, set_contacts

pytestmark = pytest.mark.django_db

MEMBER, OTHER = "222222222222", "333333333333"


@pytest.fixture
def checked(posture_aws: RootPostureStore, make_account: Callable[..., Any]) -> dict[str, Any]:
    accounts = {
        MEMBER: make_account(MEMBER, name="payments-prod"),
        OTHER: make_account(OTHER, name="sandbox-1", environment="sandbox"),
    }
    set_contacts(OTHER, "BILLING", "OPERATIONS", "SECURITY")
    posture_aws.root(MEMBER).mfa = False
    posture_check_all()
    return accounts


def test_the_organization_page_scores_each_control_and_names_the_failing_accounts(
    client: Client, checked: dict[str, Any], auditor: Any
) -> None:
    client.force_login(auditor)
    page = client.get(reverse("audits:organization_posture")).content.decode()
    assert "IAM.9 · MFA should be enabled for the root user" in page
    assert "Account.1" in page
    assert "IAM.4" in page
    assert "CIS 2.1.1" in page
    assert "50%" in page  # IAM.9: one of two accounts
    assert "payments-prod" in page


def test_the_organization_page_filters_by_control_and_environment(
    client: Client, checked: dict[str, Any], auditor: Any
) -> None:
    client.force_login(auditor)
    page = client.get(
        reverse("audits:organization_posture"), {"control": "IAM.9", "environment": "sandbox"}
    ).content.decode()
    assert "IAM.9" in page
    assert "IAM.4 ·" not in page
    assert "100%" in page
    assert "payments-prod" not in page
    failing = client.get(reverse("audits:organization_posture"), {"state": "fail"}).content.decode()
    assert "IAM.4 ·" not in failing  # nobody fails it
    assert "IAM.9 ·" in failing


def test_an_approver_sees_the_posture_of_an_account_they_answer_for_only(
    client: Client, checked: dict[str, Any], approver: Any
) -> None:
    checked[MEMBER].approvers.add(approver)
    client.force_login(approver)
    page = client.get(reverse("audits:account_posture", kwargs={"uuid": checked[MEMBER].uuid}))
    assert page.status_code == 200
    assert "has no MFA device" in page.content.decode()
    assert "Check now" not in page.content.decode()
    assert (
        client.get(reverse("audits:account_posture", kwargs={"uuid": checked[OTHER].uuid})).status_code == 404
    )
    assert client.get(reverse("audits:organization_posture")).status_code == 403


def test_the_account_page_is_linked_from_the_account(
    client: Client, checked: dict[str, Any], administrator: Any
) -> None:
    client.force_login(administrator)
    page = client.get(
        reverse("breakglass:account_detail", kwargs={"uuid": checked[MEMBER].uuid})
    ).content.decode()
    assert reverse("audits:account_posture", kwargs={"uuid": checked[MEMBER].uuid}) in page


def test_check_now_runs_the_check_of_that_account(
    client: Client,
    checked: dict[str, Any],
    administrator: Any,
    posture_aws: RootPostureStore,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    posture_aws.root(MEMBER).mfa = True
    client.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("audits:account_posture_check", kwargs={"uuid": checked[MEMBER].uuid}))
    assert response.status_code == 302
    assert Finding.objects.get(kind="root_mfa_missing").status == FindingStatus.RESOLVED


def test_check_now_is_for_administrators(client: Client, checked: dict[str, Any], auditor: Any) -> None:
    client.force_login(auditor)
    response = client.post(reverse("audits:account_posture_check", kwargs={"uuid": checked[MEMBER].uuid}))
    assert response.status_code == 403


def test_a_posture_finding_opens_on_the_findings_pages(
    client: Client, checked: dict[str, Any], auditor: Any
) -> None:
    client.force_login(auditor)
    finding = Finding.objects.get(kind="root_mfa_missing")
    listed = client.get(reverse("audits:finding_list"), {"kind": "root_mfa_missing"}).content.decode()
    assert finding.code in listed
    page = client.get(reverse("audits:finding_detail", kwargs={"uuid": finding.uuid}))
    assert page.status_code == 200
    assert "has no MFA device" in page.content.decode()


def test_the_organization_page_names_twenty_failing_accounts_and_links_the_rest_to_findings(
    client: Client, auditor: Any
) -> None:
    from django.utils import timezone

    from audits.choices import PostureStatus
    from audits.posture.controls import Check
    from audits.posture.models import PostureResult
    from breakglass.tests.factories import AwsAccountFactory

    accounts = [AwsAccountFactory(name=f"acct-{n:03d}") for n in range(25)]
    PostureResult.objects.bulk_create(
        PostureResult(
            account=account,
            check_name=Check.ROOT_ACCESS_KEYS,
            status=PostureStatus.FAIL,
            reason=f"{account.name} has a root access key.",
            checked_at=timezone.now(),
        )
        for account in accounts
    )
    client.force_login(auditor)

    page = client.get(reverse("audits:organization_posture")).content.decode()

    assert "acct-000 has a root access key." in page
    assert "acct-019 has a root access key." in page
    assert "acct-020" not in page
    assert "And 5 more" in page
    assert "?kind=root_access_keys_present&amp;status=open" in page
