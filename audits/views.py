"""Pages of the evidence side: findings (list, detail, triage), ingestion runs and the log upload (the
ledger's page is in ``ledger.views``). Each view: a policy decorator, a selector, a form, at most one
service, a redirect."""

from __future__ import annotations

import json
import logging
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from audits import forms, incidents, selectors, services, uploads
from audits.choices import FindingStatus
from audits.models import Finding, RootEvent
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if
from portal.forms import add_domain_error
from portal.paging import CURSOR_PARAMETER, keyset_page

logger = logging.getLogger(__name__)

FINDINGS_PER_PAGE = 50
RUNS_PER_PAGE = 50
#: Events shown with their raw records on a finding's page; a finding about a burst can hold many.
EVENTS_SHOWN = 100


# --- Findings ------------------------------------------------------------------------------------


@allowed_if(policy.may_view_findings)
def finding_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = forms.FindingFilterForm(request.GET or None)
    findings = selectors.findings_visible_to(user=request.user, filters=form.filters())
    # Newest first on the (last_seen, id) indexes ``finding_newest`` and ``finding_severity_newest``.
    page = keyset_page(
        findings,
        ordering=("-last_seen", "-id"),
        cursor=request.GET.get(CURSOR_PARAMETER),
        size=FINDINGS_PER_PAGE,
    )
    return render(
        request,
        "audits/finding_list.html",
        {
            "form": form,
            "page": page,
            # Findings one root event raised together are shown as one incident (on this page).
            "incidents": incidents.group_into_incidents(page.items),
            "filtered": any(form.filters().as_dict().values()),
            "may_triage": policy.may_triage_findings(request.user),
        },
    )


def _raw_json(event: RootEvent) -> str:
    # Autoescaping in the template makes whatever the record holds inert. PostgreSQL's jsonb keeps no
    # key order, so sorted keys are the one order a reader can rely on.
    return json.dumps(event.raw, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _finding_page(
    request: AuthenticatedHttpRequest, finding: Finding, *, triage_form: forms.TriageForm | None = None
) -> HttpResponse:
    events = list(selectors.finding_events(finding=finding)[: EVENTS_SHOWN + 1])
    more = len(events) > EVENTS_SHOWN
    events = events[:EVENTS_SHOWN]
    may_triage = policy.may_triage_findings(request.user)
    if triage_form is None and may_triage:
        triage_form = forms.TriageForm()
    context: dict[str, Any] = {
        "finding": finding,
        "events": [(event, _raw_json(event)) for event in events],
        "more_events": more,
        "event_total": finding.events.count() if more else len(events),
        "triage_form": triage_form if may_triage else None,
    }
    return render(request, "audits/finding_detail.html", context)


@allowed_if(policy.may_view_findings)
def finding_detail(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    finding = selectors.finding_for(user=request.user, uuid=uuid)
    return _finding_page(request, finding)


@require_POST
@allowed_if(policy.may_triage_findings)
def finding_triage(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    finding = selectors.finding_for(user=request.user, uuid=uuid)
    form = forms.TriageForm(request.POST)
    if form.is_valid():
        try:
            services.finding_triage(
                finding=finding,
                actor=request.user,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"{finding.code} is now {_status_label(form.cleaned_data['status'])}.")
            return redirect("audits:finding_detail", uuid=finding.uuid)
    return _finding_page(request, finding, triage_form=form)


@allowed_if(policy.may_view_findings)
def incident_detail(request: AuthenticatedHttpRequest, event_uuid: UUID) -> HttpResponse:
    """One root event and the findings it raised, triaged together (POST: auditors and admins)."""
    event, findings = selectors.incident_for(user=request.user, event_uuid=event_uuid)
    may_triage = policy.may_triage_findings(request.user)
    form = forms.TriageForm(request.POST or None) if may_triage else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only auditors and administrators triage findings.")
        if form.is_valid():
            try:
                services.incident_triage(
                    event=event,
                    findings=findings,
                    actor=request.user,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                add_domain_error(form, error)
            else:
                label = _status_label(form.cleaned_data["status"])
                messages.success(request, f"The {len(findings)} findings of this incident are now {label}.")
                return redirect("audits:incident_detail", event_uuid=event.uuid)
    return render(
        request,
        "audits/incident_detail.html",
        {"event": event, "findings": findings, "triage_form": form, "raw": _raw_json(event)},
    )


def _status_label(status: str) -> str:
    return str(FindingStatus(status).label).lower()


# --- Ingestion runs ------------------------------------------------------------------------------


@allowed_if(policy.may_view_ingestion)
def run_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = keyset_page(
        selectors.ingestion_runs_visible_to(user=request.user),
        ordering=("-started_at", "-id"),  # the index ``run_newest``
        cursor=request.GET.get(CURSOR_PARAMETER),
        size=RUNS_PER_PAGE,
    )
    return render(
        request,
        "audits/run_list.html",
        {"page": page, "may_upload": policy.may_upload_logs(request.user)},
    )


@allowed_if(policy.may_view_ingestion)
def run_detail(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    run = selectors.ingestion_run_for(user=request.user, uuid=uuid)
    return render(request, "audits/run_detail.html", {"run": run})


@allowed_if(policy.may_upload_logs)
def log_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Accept and store the file; a worker ingests it (``audits.uploads``), never this request."""
    form = forms.LogUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = uploads.logs_upload(actor=request.user, uploaded=form.cleaned_data["log_file"])
        except ValidationError as error:
            add_domain_error(form, error)
        except Exception:
            # The upload folder or the database failed: nothing was kept (the file, the run and its
            # ledger entry are stored together or not at all).
            logger.exception("upload by %s could not be stored", request.user)
            form.add_error(None, "The file could not be stored; nothing was kept. Try again later.")
        else:
            messages.success(
                request, "The file was uploaded; it is being read now. This page shows the progress."
            )
            return redirect("audits:run_detail", uuid=run.uuid)
    return render(request, "audits/log_upload.html", {"form": form})
