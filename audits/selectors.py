"""Permission-aware reads of the evidence side. Pages, exports and commands share them.

``user=None`` means the system itself (a management command run by an operator on the server), which
reads everything; views always pass ``request.user``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Prefetch, Q
from django.http import Http404

from audits.models import AssumeRootCall, ExportJob, Finding, IngestionRun, RootEvent
from breakglass import rules
from breakglass.models import AwsAccount
from breakglass.selectors import account_id_prefix, account_search_q
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.models import QuerySet

    from breakglass.models import AccessRequest

    AnyUser = AbstractBaseUser | AnonymousUser


# --- Findings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingFilter:
    """What the findings page (and its export) narrows the list to; empty fields do not filter."""

    kind: str = ""
    severity: str = ""
    status: str = ""
    # The 12-digit AWS account id (findings of unknown accounts have no inventory account).
    account_id: str = ""
    # What a person typed for an account (the findings page): a name, or an id or the start of one
    # (``selectors.account_search_q``); the id part also finds findings of accounts not in the inventory.
    account: str = ""
    # The environment (OU) of the inventory account.
    environment: str = ""
    # Findings whose events fall (at least partly) in [since, until].
    since: datetime | None = None
    until: datetime | None = None

    def as_q(self) -> Q:
        q = Q()
        if self.kind:
            q &= Q(kind=self.kind)
        if self.severity:
            q &= Q(severity=self.severity)
        if self.status:
            q &= Q(status=self.status)
        if self.account_id:
            q &= Q(aws_account_id=self.account_id)
        if self.account:
            q &= _finding_account_q(self.account)
        if self.environment:
            q &= Q(account__environment=self.environment)
        if self.since is not None:
            q &= Q(last_seen__gte=self.since)
        if self.until is not None:
            q &= Q(first_seen__lte=self.until)
        return q

    def as_dict(self) -> dict[str, str]:
        """The filters in force, for the ledger entry of an export."""
        found = {
            "kind": self.kind,
            "severity": self.severity,
            "status": self.status,
            "account_id": self.account_id,
            "account": self.account,
            "environment": self.environment,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {key: value for key, value in found.items() if value}


def _finding_account_q(text: str) -> Q:
    """Findings of the account ``text`` names: the inventory account's name or id (the accounts
    list's own search), or, for an id, the recorded account id, which unknown accounts also have."""
    found = account_search_q(text, prefix="account__")
    digits = account_id_prefix(text)
    if digits:
        found |= Q(aws_account_id__startswith=digits)
    return found


def findings_visible_to(*, user: AnyUser | None, filters: FindingFilter | None = None) -> QuerySet[Finding]:
    """Findings newest first, with account, session and event ids loaded for lists and exports.

    Auditors and administrators see all; approvers and custodians those of their accounts (never
    those of unknown accounts); nobody else any.
    """
    findings = Finding.objects.all()
    if user is not None:
        if policy.may_view_all_findings(user):
            findings = findings.filter(policy.visible_findings_filter(user))
        else:
            # A subquery, not DISTINCT over the join through approvers and custodians: DISTINCT
            # sorted every visible finding before a page could be taken from the index.
            visible = Finding.objects.filter(policy.visible_findings_filter(user)).values("pk")
            findings = findings.filter(pk__in=visible)
    if filters is not None:
        findings = findings.filter(filters.as_q())
    return (
        findings.select_related("account", "session", "triaged_by")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=RootEvent.objects.only("id", "uuid", "event_id", "event_time").order_by("event_id"),
            )
        )
        .order_by("-last_seen", "-pk")
    )


def finding_for(*, user: AnyUser | None, uuid: UUID) -> Finding:
    """One finding the person may see, or 404."""
    try:
        return findings_visible_to(user=user).get(uuid=uuid)
    except Finding.DoesNotExist:
        raise Http404("No such finding.") from None


def finding_events(*, finding: Finding) -> QuerySet[RootEvent]:
    """The root events of a finding the caller already obtained through a selector, oldest first.

    Queried afresh (not through ``finding.events``): list selectors prefetch only the events' ids,
    and the detail page needs whole rows.
    """
    return RootEvent.objects.filter(findings=finding).select_related("session").order_by("event_time", "pk")


def incident_for(*, user: AnyUser | None, event_uuid: UUID) -> tuple[RootEvent, list[Finding]]:
    """A root event and the findings it raised that the person may see, or 404 when there are fewer
    than two (one finding is not an incident: its own page triages it)."""
    event = RootEvent.objects.defer("raw").filter(uuid=event_uuid).first()
    if event is None:
        raise Http404("No such incident.")
    findings = list(findings_visible_to(user=user).filter(events=event).order_by("first_seen", "pk"))
    if len(findings) < 2:
        raise Http404("No such incident.")
    return event, findings


# --- Root events and runs ------------------------------------------------------------------------


def root_events_visible_to(*, user: AnyUser | None) -> QuerySet[RootEvent]:
    """Root events newest first, raw records deferred: all for auditors and administrators (unknown
    accounts included), those of their accounts for approvers and custodians."""
    events = RootEvent.objects.defer("raw").select_related("session")
    if user is not None and not policy.may_view_all_findings(user):
        if not policy.may_use_portal(user):
            return RootEvent.objects.none()
        # The same people as for findings: those who answer for the account.
        visible = AwsAccount.objects.filter(Q(approvers=user) | Q(custodians=user)).values("account_id")
        events = events.filter(aws_account_id__in=visible)
    return events.order_by("-event_time", "-pk")


def session_root_events(*, user: AnyUser | None, request: AccessRequest) -> QuerySet[RootEvent]:
    """The root events matched to one check-out, oldest first, for the session's page."""
    if user is not None and not rules.may_view_request(user, request):
        return RootEvent.objects.none()
    return RootEvent.objects.defer("raw").filter(session=request).order_by("event_time", "pk")


def session_assume_root_calls(*, user: AnyUser | None, request: AccessRequest) -> QuerySet[AssumeRootCall]:
    """The management account's AssumeRoot records reconciliation tied to one session (by its key)."""
    if user is not None and not rules.may_view_request(user, request):
        return AssumeRootCall.objects.none()
    return AssumeRootCall.objects.defer("raw").filter(session=request).order_by("event_time", "pk")


def ingestion_runs_visible_to(*, user: AnyUser | None) -> QuerySet[IngestionRun]:
    """Ingestion runs newest first: auditors and administrators only."""
    if user is not None and not policy.may_view_ingestion(user):
        return IngestionRun.objects.none()
    return IngestionRun.objects.select_related("source", "triggered_by").order_by("-started_at", "-pk")


def ingestion_run_for(*, user: AnyUser | None, uuid: UUID) -> IngestionRun:
    try:
        return ingestion_runs_visible_to(user=user).get(uuid=uuid)
    except IngestionRun.DoesNotExist:
        raise Http404("No such ingestion run.") from None


# --- Export jobs ---------------------------------------------------------------------------------


def export_jobs_of(*, user: AnyUser) -> QuerySet[ExportJob]:
    """The person's own export jobs, newest first. Nobody sees another person's, administrators
    included: an export holds what its filters chose for the one who asked (fail closed)."""
    if not policy.may_export_reports(user) or user.pk is None:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(requested_by_id=user.pk).order_by("-created_at", "-pk")


def export_job_for(*, user: AnyUser, uuid: UUID) -> ExportJob:
    """One of the person's own export jobs, or 404 (another person's job is not said to exist)."""
    try:
        return export_jobs_of(user=user).get(uuid=uuid)
    except ExportJob.DoesNotExist:
        raise Http404("No such export.") from None
