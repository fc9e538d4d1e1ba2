"""The reports page and the export of each report as CSV, JSON (both streamed) or PDF. Auditors and
administrators only; every export is a ledger entry written before the first byte is sent."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audits.evidence_forms import EvidenceBundleForm
from audits.report_forms import ReportFilterForm
from audits.reports import FORMATS, REPORTS, export_start
from audits.reports.formats import CONTENT_TYPES
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if


def report_sections() -> list[dict[str, Any]]:
    """Each report with the filter fields its section of the reports page shows."""
    sections = []
    for report in REPORTS.values():
        # One form per report, so the same field has a distinct id in each section of the page.
        form = ReportFilterForm(auto_id=f"{report.name}-%s")
        sections.append({"report": report, "fields": [form[name] for name in report.filter_fields]})
    return sections


@require_GET
@allowed_if(policy.may_export_reports)
def report_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = {
        "sections": report_sections(),
        "formats": FORMATS,
        "bundle_form": EvidenceBundleForm(auto_id="bundle-%s"),
    }
    return render(request, "audits/reports/index.html", context)


@require_GET
@allowed_if(policy.may_export_reports)
def report_export(
    request: AuthenticatedHttpRequest, name: str, fmt: str
) -> HttpResponse | StreamingHttpResponse:
    if name not in REPORTS or fmt not in FORMATS:
        raise Http404("No such report or format.")
    # The query string of the reports page, or of the findings or ledger page the link is on.
    filters = ReportFilterForm(request.GET or None).filters()
    export = export_start(user=request.user, name=name, fmt=fmt, filters=filters)
    response: HttpResponseBase
    if fmt == "pdf":
        response = HttpResponse(export.pdf(), content_type=CONTENT_TYPES[fmt])
    else:
        response = StreamingHttpResponse(export.text(), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
