"""Findings reach AWS Security Hub in their own account, in ASFF, and follow their triage (issue 14,
item 2), through boto3 against moto."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from django.urls import reverse
from django.utils import timezone

from audits import securityhub
from audits.alerts import finding_create
from audits.models import Finding
from audits.services import finding_triage
from audits.tasks import export_pending_to_security_hub
from audits.tests.securityhub_support import install_batch_update_findings
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db

MEMBER = "210987654321"
REGION = "eu-west-1"


@pytest.fixture
def hub(mocked_aws: None, settings: Any) -> Iterator[Any]:
    settings.PORTAL_SECURITY_HUB_ENABLED = True
    settings.PORTAL_SECURITY_HUB_REGION = REGION
    settings.PORTAL_SECURITY_HUB_ROLE_NAME = "BreakGlassPortalFindings"
    # The app read its configuration once, in whichever test came first: set it on the app itself.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    # Read as the member account, through the same role the portal assumes.
    role = f"arn:aws:iam::{MEMBER}:role/BreakGlassPortalFindings"
    credentials = boto3.client("sts", region_name=REGION).assume_role(RoleArn=role, RoleSessionName="test")[
        "Credentials"
    ]
    uninstall = install_batch_update_findings()
    try:
        yield boto3.client(
            "securityhub",
            region_name=REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    finally:
        uninstall()
        celery_app.conf.task_always_eager = eager


def _in_hub(client: Any, finding: Finding) -> dict[str, Any]:
    found = client.get_findings(
        Filters={"Id": [{"Value": securityhub.finding_id(finding), "Comparison": "EQUALS"}]}
    )
    assert len(found["Findings"]) == 1, found["Findings"]
    return dict(found["Findings"][0])


def _finding(**overrides: Any) -> Finding:
    now = timezone.now()
    values = {
        "key": "test:unapproved", "kind": "unapproved_root_usage", "severity": "critical",
        "first_seen": now - timedelta(hours=1), "last_seen": now,
        "summary": "Root used without an approved check-out.", "aws_account_id": MEMBER,
    }  # fmt: skip
    values.update(overrides)
    return finding_create(**values)


def test_a_new_finding_is_imported_into_its_own_account_in_asff(
    hub: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        finding = _finding()

    imported = _in_hub(hub, finding)
    assert imported["AwsAccountId"] == MEMBER
    assert imported["ProductArn"] == f"arn:aws:securityhub:{REGION}:{MEMBER}:product/{MEMBER}/default"
    assert imported["Severity"]["Label"] == "CRITICAL"
    assert imported["ProductFields"]["breakglass/code"] == finding.code
    assert imported["SourceUrl"].endswith(f"/audit/findings/{finding.uuid}/")
    assert imported["RecordState"] == "ACTIVE"
    finding.refresh_from_db()
    assert finding.security_hub_exported_at is not None
    assert finding.security_hub_error == ""


def test_triage_is_sent_as_the_workflow_status_with_the_note(
    hub: Any, auditor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        finding = _finding()
    with django_capture_on_commit_callbacks(execute=True):
        finding_triage(finding=finding, actor=auditor, status="resolved", note="Drill on 3 May, INC-42.")

    imported = _in_hub(hub, finding)
    assert imported["Workflow"]["Status"] == "RESOLVED"
    assert imported["RecordState"] == "ARCHIVED"
    assert imported["Note"]["Text"] == "Drill on 3 May, INC-42."


def test_nothing_is_sent_when_security_hub_is_off(
    hub: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PORTAL_SECURITY_HUB_ENABLED = False
    with django_capture_on_commit_callbacks(execute=True):
        finding = _finding()

    assert hub.get_findings()["Findings"] == []
    assert export_pending_to_security_hub() == 0
    finding.refresh_from_db()
    assert finding.security_hub_exported_at is None


def test_a_refusal_is_recorded_on_the_finding_and_the_sweep_sends_it_later(
    hub: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    real_client = securityhub.aws.client

    def refusing(service: str, settings: Any, **config: Any) -> Any:
        client = real_client(service, settings, **config)

        def refuse(**_: Any) -> dict[str, Any]:
            return {"FailedCount": 1, "FailedFindings": [{"ErrorCode": "AccessDenied", "ErrorMessage": "no"}]}

        client.batch_import_findings = refuse
        return client

    monkeypatch.setattr(securityhub.aws, "client", refusing)
    with django_capture_on_commit_callbacks(execute=True):
        finding = _finding()  # the task retries, then gives up; the finding itself is unchanged
    finding.refresh_from_db()
    assert finding.security_hub_exported_at is None
    assert finding.security_hub_error == "AccessDenied: no"
    assert securityhub.findings_to_export() == [finding.pk]

    monkeypatch.setattr(securityhub.aws, "client", real_client)
    assert export_pending_to_security_hub() == 1
    assert _in_hub(hub, finding)["Id"] == securityhub.finding_id(finding)
    assert securityhub.findings_to_export() == []


def test_posture_and_tampering_findings_get_their_own_types() -> None:
    assert securityhub.finding_type("root_mfa_missing").startswith("Software and Configuration Checks/")
    assert securityhub.finding_type("root_cloudtrail_tampering").startswith("TTPs/Defense Evasion")
    assert securityhub.finding_type("unapproved_root_usage") == securityhub.DEFAULT_TYPE


def test_the_finding_page_says_whether_security_hub_has_it(client: Any, auditor: Any) -> None:
    finding = _finding()
    Finding.objects.filter(pk=finding.pk).update(security_hub_error="AccessDenied: no")
    client.force_login(auditor)

    page = client.get(reverse("audits:finding_detail", kwargs={"uuid": finding.uuid})).content.decode()

    assert "Security Hub" in page
    assert "AccessDenied: no" in page
