"""Findings (list with the findings page's filters, read, triage), root events and ingestion runs,
through ``audits.selectors`` and ``audits.services``: what a token reads is what its person's pages
show."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router

from api import schemas
from api.auth import ApiRefusalError, caller
from api.choices import Scope
from api.endpoints.inventory import scopes
from api.paging import PageQuery, page_of
from audits import selectors, services
from audits.forms import FindingFilterForm
from audits.models import Finding, IngestionRun, RootEvent
from portal import policy
from portal.links import absolute_url

router = Router(tags=["evidence"])

ACCOUNT_ID_HINT = "An AWS account id is 12 digits."
#: As on the finding's page.
EVENTS_SHOWN = 100


def finding_out(finding: Finding) -> dict[str, Any]:
    account = finding.account
    return {
        "uuid": finding.uuid,
        "code": finding.code,
        "kind": finding.kind,
        "severity": finding.severity,
        "status": finding.status,
        "aws_account_id": finding.aws_account_id,
        "account": None
        if account is None
        else {"uuid": account.uuid, "account_id": account.account_id, "name": account.name},
        "session": finding.session.code if finding.session is not None else None,
        "first_seen": finding.first_seen,
        "last_seen": finding.last_seen,
        "summary": finding.summary,
        "triage_note": finding.triage_note,
        "triaged_by": finding.triaged_by.get_username() if finding.triaged_by is not None else None,
        "triaged_at": finding.triaged_at,
        "event_ids": [event.event_id for event in finding.events.all()],
        "web_url": absolute_url("audits:finding_detail", kwargs={"uuid": finding.uuid}),
    }


def finding_detail_out(finding: Finding) -> dict[str, Any]:
    events = selectors.finding_events(finding=finding)[:EVENTS_SHOWN]
    return {
        **finding_out(finding),
        "events": [
            {
                "event_id": event.event_id,
                "event_time": event.event_time,
                "event_name": event.event_name,
                "event_source": event.event_source,
                "region": event.region,
                "source_ip": event.source_ip,
                "mfa_used": event.mfa_used,
            }
            for event in events
        ],
    }


class FindingQuery(PageQuery):
    """The findings page's filters, by the same names: dates are whole UTC days, 'until' inclusive."""

    kind: str = ""
    severity: str = ""
    status: str = ""
    account: str = ""
    since: str = ""
    until: str = ""


@router.get(
    "/findings",
    response=schemas.answers(200, schemas.Page[schemas.Finding]),
    summary="List the findings you may see, filtered as on the findings page",
    openapi_extra=scopes(Scope.READ_FINDINGS),
)
def finding_list(request: HttpRequest, query: Query[FindingQuery]) -> dict[str, Any]:
    user = caller(request, Scope.READ_FINDINGS, allowed=policy.may_view_findings)
    # The page's own form: the same names and meanings. The page ignores a bad field; the API says so.
    form = FindingFilterForm(
        {name: getattr(query, name) for name in ("kind", "severity", "status", "account", "since", "until")}
    )
    if not form.is_valid():
        raise ApiRefusalError(
            400,
            "The filters are not valid; see errors.",
            errors={
                ("" if field == "__all__" else field): [str(message) for message in messages]
                for field, messages in form.errors.items()
            },
        )
    findings = selectors.findings_visible_to(user=user, filters=form.filters())
    return page_of(findings, ordering=("-last_seen", "-id"), query=query, build=finding_out)


@router.get(
    "/findings/{uuid:uuid}",
    response=schemas.answers(200, schemas.FindingDetail),
    summary="One finding, with its root events",
    openapi_extra=scopes(Scope.READ_FINDINGS),
)
def finding_detail(request: HttpRequest, uuid: UUID) -> dict[str, Any]:
    user = caller(request, Scope.READ_FINDINGS, allowed=policy.may_view_findings)
    return finding_detail_out(selectors.finding_for(user=user, uuid=uuid))


@router.post(
    "/findings/{uuid:uuid}/triage",
    response=schemas.answers(200, schemas.FindingDetail),
    summary="Acknowledge, resolve or dismiss a finding, saying why (kept in the ledger)",
    openapi_extra=scopes(Scope.TRIAGE_FINDINGS),
)
def finding_triage(request: HttpRequest, uuid: UUID, body: schemas.TriageIn) -> dict[str, Any]:
    user = caller(request, Scope.TRIAGE_FINDINGS, allowed=policy.may_triage_findings, writes=True)
    finding = selectors.finding_for(user=user, uuid=uuid)
    services.finding_triage(finding=finding, actor=user, status=body.status, note=body.note)
    return finding_detail_out(selectors.finding_for(user=user, uuid=uuid))


# --- Root events and runs ------------------------------------------------------------------------


def root_event_out(event: RootEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "aws_account_id": event.aws_account_id,
        "region": event.region,
        "event_time": event.event_time,
        "event_name": event.event_name,
        "event_source": event.event_source,
        "event_type": event.event_type,
        "is_service_event": event.is_service_event,
        "mfa_used": event.mfa_used,
        "login_success": event.login_success,
        "succeeded": event.succeeded,
        "source_ip": event.source_ip,
        "session": event.session.code if event.session is not None else None,
        "in_scope": event.in_scope,
    }


class RootEventQuery(PageQuery):
    account: str = ""


@router.get(
    "/root-events",
    response=schemas.answers(200, schemas.Page[schemas.RootEvent]),
    summary="List the root events of the accounts you answer for (all for auditors)",
    openapi_extra=scopes(Scope.READ_FINDINGS),
)
def root_event_list(request: HttpRequest, query: Query[RootEventQuery]) -> dict[str, Any]:
    user = caller(request, Scope.READ_FINDINGS, allowed=policy.may_view_findings)
    events = selectors.root_events_visible_to(user=user)
    if query.account:
        if not (len(query.account) == 12 and query.account.isascii() and query.account.isdigit()):
            raise ApiRefusalError(400, "The filters are not valid.", errors={"account": [ACCOUNT_ID_HINT]})
        events = events.filter(aws_account_id=query.account)
    return page_of(events, ordering=("-event_time", "-id"), query=query, build=root_event_out)


def run_out(run: IngestionRun) -> dict[str, Any]:
    return {
        "uuid": run.uuid,
        "source": run.source.name if run.source is not None else None,
        "kind": run.kind,
        "unit": run.unit,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "files_read": run.files_read,
        "files_rejected": run.files_rejected,
        "records_read": run.records_read,
        "root_records": run.root_records,
        "findings_raised": run.findings_raised,
        "errors": list(run.errors),
    }


@router.get(
    "/ingestion-runs",
    response=schemas.answers(200, schemas.Page[schemas.IngestionRun]),
    summary="List the ingestion runs (auditors and administrators)",
    openapi_extra=scopes(Scope.READ_FINDINGS),
)
def run_list(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    user = caller(request, Scope.READ_FINDINGS, allowed=policy.may_view_ingestion)
    runs = selectors.ingestion_runs_visible_to(user=user)
    return page_of(runs, ordering=("-started_at", "-id"), query=page, build=run_out)


@router.get(
    "/ingestion-runs/{uuid:uuid}",
    response=schemas.answers(200, schemas.IngestionRun),
    summary="One ingestion run",
    openapi_extra=scopes(Scope.READ_FINDINGS),
)
def run_detail(request: HttpRequest, uuid: UUID) -> dict[str, Any]:
    user = caller(request, Scope.READ_FINDINGS, allowed=policy.may_view_ingestion)
    return run_out(selectors.ingestion_run_for(user=user, uuid=uuid))
