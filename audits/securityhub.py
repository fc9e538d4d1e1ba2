"""Findings into AWS Security Hub, in the AWS Security Finding Format (issue 14, item 2).

Security Hub is where many security teams already look, so every finding is sent there when
``PORTAL_SECURITY_HUB_ENABLED`` is on, and sent again whenever it changes (raised again, triaged,
resolved): a post-save receiver queues ``audits.tasks.export_finding_to_security_hub`` after commit.

Each finding goes into the account it is about, as that account's own finding (the *default*
product, ``product/<account>/default``): only an account, or an integrated partner, may import
findings into it, so the portal calls through a role of that account (``PORTAL_SECURITY_HUB_ROLE_NAME``;
the StackSet in ``deploy/aws/`` creates it with ``securityhub:BatchImportFindings`` and
``securityhub:BatchUpdateFindings`` on the account's own findings only, so the posture role stays
read-only).

* ``BatchImportFindings`` carries what the portal knows: title, description, the severity and type
  as the provider's (``FindingProviderFields``), the account, the CloudTrail event ids and the
  finding's code and link (``ProductFields``), and ``RecordState`` ARCHIVED once resolved.
* ``BatchUpdateFindings`` carries the triage: ``Workflow.Status`` (NEW, NOTIFIED, RESOLVED,
  SUPPRESSED) and the triage note, which ``BatchImportFindings`` may not set on an existing finding.

The finding row records when it was last sent and the last error, so the finding page says whether
Security Hub has it; a failure is retried by the task and never changes the finding itself.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from audits import aws_access
from audits.choices import FindingStatus
from audits.models import Finding
from audits.sources import aws
from portal.links import absolute_url
from portal.people import person_label

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "2018-10-08"
GENERATOR = "breakglass-portal"
#: ASFF type per finding kind ("namespace/category/classifier"); anything else is unusual root use.
TYPES = {
    "root_cloudtrail_tampering": "TTPs/Defense Evasion/Root changed CloudTrail",
    "root_access_key_created": "TTPs/Persistence/Root access key created",
    "root_login_without_mfa": "Unusual Behaviors/User/Root sign-in without MFA",
    "root_login_failed": "TTPs/Initial Access/Root sign-in failed",
    "checkout_overdue": "Software and Configuration Checks/Break-glass/Check-out overdue",
    "rotation_overdue": "Software and Configuration Checks/Break-glass/Rotation overdue",
    "access_review_incomplete": "Software and Configuration Checks/Break-glass/Access review incomplete",
}
DEFAULT_TYPE = "Unusual Behaviors/User/Root user activity"
POSTURE_TYPE = "Software and Configuration Checks/AWS Security Best Practices/Root user"
WORKFLOW = {
    FindingStatus.OPEN: "NEW",
    FindingStatus.ACKNOWLEDGED: "NOTIFIED",
    FindingStatus.RESOLVED: "RESOLVED",
    FindingStatus.FALSE_POSITIVE: "SUPPRESSED",
}
#: Security Hub's limits on text fields.
TITLE_MAX = 256
DESCRIPTION_MAX = 1024
EVENT_IDS_MAX = 20


def finding_id(finding: Finding) -> str:
    return f"{GENERATOR}/{finding.code}"


def product_arn(account_id: str, region: str) -> str:
    return f"arn:aws:securityhub:{region}:{account_id}:product/{account_id}/default"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def finding_type(kind: str) -> str:
    if kind.startswith(
        ("root_access_keys_present", "root_mfa_", "alternate_contact", "root_password_present")
    ):
        return POSTURE_TYPE
    return TYPES.get(kind, DEFAULT_TYPE)


def asff(finding: Finding, *, region: str, event_ids: list[str]) -> dict[str, Any]:
    """The finding in ASFF, as imported into its account."""
    account_id = finding.aws_account_id
    severity = finding.severity.upper()
    shown = event_ids[:EVENT_IDS_MAX]
    fields = {
        "breakglass/code": finding.code,
        "breakglass/kind": finding.kind,
        "breakglass/status": finding.status,
        "breakglass/eventIds": ",".join(shown),
        "breakglass/eventCount": str(len(event_ids)),
    }
    if finding.session_id is not None and finding.session is not None:
        fields["breakglass/session"] = finding.session.code
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(finding),
        "ProductArn": product_arn(account_id, region),
        "GeneratorId": f"{GENERATOR}/{finding.kind}",
        "AwsAccountId": account_id,
        "Types": [finding_type(finding.kind)],
        "FirstObservedAt": _iso(finding.first_seen),
        "LastObservedAt": _iso(finding.last_seen),
        "CreatedAt": _iso(finding.created_at),
        "UpdatedAt": _iso(finding.updated_at),
        "Severity": {"Label": severity, "Original": finding.severity},
        "FindingProviderFields": {"Severity": {"Label": severity}, "Types": [finding_type(finding.kind)]},
        "Title": f"{finding.get_kind_display()} ({finding.code})"[:TITLE_MAX],
        "Description": finding.summary[:DESCRIPTION_MAX] or finding.get_kind_display(),
        "SourceUrl": absolute_url("audits:finding_detail", kwargs={"uuid": finding.uuid}),
        "ProductFields": fields,
        "Resources": [{"Type": "AwsAccount", "Id": f"AWS::::Account:{account_id}", "Region": region}],
        "RecordState": "ARCHIVED" if finding.status == FindingStatus.RESOLVED else "ACTIVE",
    }


def workflow_update(finding: Finding, *, region: str) -> dict[str, Any]:
    """The triage, as ``BatchUpdateFindings`` takes it."""
    update: dict[str, Any] = {
        "FindingIdentifiers": [
            {"Id": finding_id(finding), "ProductArn": product_arn(finding.aws_account_id, region)}
        ],
        "Workflow": {"Status": WORKFLOW[FindingStatus(finding.status)]},
    }
    if finding.triage_note:
        who = person_label(finding.triaged_by) if finding.triaged_by else GENERATOR
        update["Note"] = {"Text": finding.triage_note[:512], "UpdatedBy": who[:512]}
    return update


EXPORT_TASK = "audits.tasks.export_finding_to_security_hub"


@receiver(post_save, sender=Finding, dispatch_uid="audits.securityhub.export_after_save")
def export_after_save(sender: type[Finding], *, instance: Finding, **_: Any) -> None:
    """Queue the export after commit (a rolled-back change is never sent), by task name."""
    if not settings.PORTAL_SECURITY_HUB_ENABLED:
        return
    transaction.on_commit(partial(queue_export, instance.pk), robust=True)


def queue_export(finding_pk: int) -> None:
    # A signature runs in place under task_always_eager (tests) and is sent by name otherwise.
    try:
        current_app.signature(EXPORT_TASK, args=(finding_pk,)).apply_async()
    except Exception as error:
        # Only the class name: a broker error's text may carry the broker URL and its password. The
        # sweep (findings_to_export) sends it later.
        logger.warning("could not queue the Security Hub export of a finding (%s)", type(error).__name__)


def findings_to_export(limit: int = 500) -> list[int]:
    """Findings Security Hub does not have as they are now: never sent, or changed since."""
    stale = Finding.objects.filter(
        Q(security_hub_exported_at__isnull=True) | Q(updated_at__gt=F("security_hub_exported_at"))
    )
    return list(stale.order_by("updated_at").values_list("pk", flat=True)[:limit])


class SecurityHubError(RuntimeError):
    """Security Hub refused the finding (named in the message); the task retries."""


def finding_export(*, finding_pk: int) -> None:
    """Send one finding, as it is now, to Security Hub in its account; record the outcome on it."""
    finding = Finding.objects.select_related("session", "triaged_by").filter(pk=finding_pk).first()
    if finding is None:
        return
    region = settings.PORTAL_SECURITY_HUB_REGION
    event_ids = list(finding.events.order_by("event_time", "pk").values_list("event_id", flat=True))
    member = aws_access.member_settings(
        finding.aws_account_id, role_name=settings.PORTAL_SECURITY_HUB_ROLE_NAME
    ).in_region(region)
    try:
        client = aws.client("securityhub", member)
        imported = client.batch_import_findings(Findings=[asff(finding, region=region, event_ids=event_ids)])
        if imported.get("FailedCount"):
            failed = imported["FailedFindings"][0]
            raise SecurityHubError(f"{failed.get('ErrorCode')}: {failed.get('ErrorMessage')}")
        updated = client.batch_update_findings(**workflow_update(finding, region=region))
        if updated.get("UnprocessedFindings"):
            failed = updated["UnprocessedFindings"][0]
            raise SecurityHubError(f"{failed.get('ErrorCode')}: {failed.get('ErrorMessage')}")
    except Exception as exc:
        # update(), not save(): the post-save receiver must not queue another export for this.
        Finding.objects.filter(pk=finding.pk).update(security_hub_error=aws.describe_error(exc)[:500])
        raise
    Finding.objects.filter(pk=finding.pk).update(
        security_hub_exported_at=timezone.now(), security_hub_error=""
    )
