"""The evidence bundle pages: making a bundle from the reports page (an export job: a worker writes
the zip, the job page offers it) and checking an uploaded one, with the public keys shown.
Auditors and administrators only, like the reports."""

from __future__ import annotations

import logging

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from audits import export_jobs
from audits.evidence import evidence_keys
from audits.evidence.checks import evidence_bundle_check
from audits.evidence_forms import EvidenceBundleForm, EvidenceUploadForm
from audits.report_views import index_context
from audits.reports import ReportFilter
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if

logger = logging.getLogger(__name__)


@require_POST
@allowed_if(policy.may_export_reports)
def evidence_bundle(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    form = EvidenceBundleForm(request.POST, auto_id="bundle-%s")
    if not form.is_valid():
        return render(request, "audits/reports/index.html", index_context(request, form), status=400)
    since, until = form.period()
    filters = ReportFilter(since=since, until=until, account_id=form.cleaned_data.get("account") or "")
    # A worker writes the bundle (audits.export_jobs); the job page shows its progress, then the link.
    job = export_jobs.export_job_start(
        user=request.user, report=export_jobs.EVIDENCE, fmt="zip", filters=filters
    )
    return redirect("audits:export_job_detail", uuid=job.uuid)


@require_http_methods(["GET", "POST"])
@allowed_if(policy.may_export_reports)
def evidence_verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Upload a bundle and see whether it is valid or its first problem, checked with the portal's keys."""
    form = EvidenceUploadForm(request.POST or None, request.FILES or None)
    result = None
    try:
        public_keys = dict(evidence_keys().public_keys())
    except ImproperlyConfigured:
        logger.exception("evidence bundles cannot be checked: no signing key")
        public_keys = {}
    if request.method == "POST" and form.is_valid() and public_keys:
        uploaded = form.cleaned_data["bundle"]
        result = evidence_bundle_check(user=request.user, source=uploaded.file, name=str(uploaded.name or ""))
    status = 200 if request.method == "GET" or result is not None else 400
    context = {"form": form, "result": result, "public_keys": list(public_keys.items())}
    return render(request, "audits/evidence/verify.html", context, status=status)
