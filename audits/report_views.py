"""The reports page and the streamed export of each report as CSV or JSON (GET, for the links on the
findings and ledger pages). PDFs and large exports are export jobs (``export_job_views``). Auditors
and administrators only; every export is a ledger entry written before the first byte is sent."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from audits import selectors
from audits.evidence_forms import EvidenceBundleForm
from audits.report_forms import ReportFilterForm
from audits.reports import FORMATS, REPORTS, export_start
from audits.reports.formats import CONTENT_TYPES
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if
from portal.errors import DomainError

#: The person's own recent export jobs listed on the Reports page.
RECENT_JOBS = 10


def report_sections() -> list[dict[str, Any]]:
    """Each report with the filter fields its section of the reports page shows."""
    sections = []
    for report in REPORTS.values():
        # One form per report, so the same field has a distinct id in each section of the page.
        form = ReportFilterForm(auto_id=f"{report.name}-%s")
        sections.append({"report": report, "fields": [form[name] for name in report.filter_fields]})
    return sections


def index_context(request: AuthenticatedHttpRequest, bundle_form: EvidenceBundleForm) -> dict[str, Any]:
    """What the reports page shows; the bundle form is the evidence page's own when it has errors."""
    return {
        "sections": report_sections(),
        "formats": FORMATS,
        "bundle_form": bundle_form,
        "jobs": selectors.export_jobs_of(user=request.user)[:RECENT_JOBS],
        "stream_max_rows": settings.PORTAL_EXPORT_STREAM_MAX_ROWS,
    }


def refused_export(request: AuthenticatedHttpRequest, name: str, error: DomainError) -> HttpResponse:
    """Back to the report's section of the page, saying what to fix (nothing was exported)."""
    for message in error.messages:
        messages.error(request, message)
    return redirect(f"{reverse('audits:report_index')}#report-{name}")


@require_GET
@allowed_if(policy.may_export_reports)
def report_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = index_context(request, EvidenceBundleForm(auto_id="bundle-%s"))
    return render(request, "audits/reports/index.html", context)


@require_GET
@allowed_if(policy.may_export_reports)
def report_export(request: AuthenticatedHttpRequest, name: str, fmt: str) -> HttpResponseBase:
    if name not in REPORTS or fmt not in FORMATS:
        raise Http404("No such report or format.")
    if fmt == "pdf":
        # PDFs are laid out by a worker (audits.export_jobs), started by a POST from the page.
        messages.info(
            request, "PDF reports are prepared as a file: choose the filters and press “Prepare PDF”."
        )
        return redirect(f"{reverse('audits:report_index')}#report-{name}")
    # The query string of the reports page, or of the findings or ledger page the link is on.
    filters = ReportFilterForm(request.GET or None).filters()
    try:
        export = export_start(user=request.user, name=name, fmt=fmt, filters=filters)
    except DomainError as error:
        return refused_export(request, name, error)
    response = StreamingHttpResponse(export.text(), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
