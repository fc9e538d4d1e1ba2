"""Export jobs in the browser: starting one from the Reports page (or a page's PDF button), its page
with the progress (a small script polls the status endpoint; without script the page refreshes
itself), and the download. Auditors and administrators only, and each person only their own jobs
(``audits.selectors.export_job_for`` answers 404 for anyone else's)."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audits import export_jobs, selectors
from audits.choices import ExportJobStatus
from audits.report_forms import ReportFilterForm
from audits.report_views import refused_export
from audits.reports import FORMATS, REPORTS, export_start
from audits.reports.formats import CONTENT_TYPES
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if
from portal.errors import DomainError

_FINISHED = (ExportJobStatus.DONE, ExportJobStatus.FAILED, ExportJobStatus.EXPIRED)


def _streams(fmt: str, count: int | None, as_file: bool) -> bool:
    """CSV and JSON up to the limit go straight to the browser; PDFs, larger or uncounted exports
    and those asked for as a file are made by a worker."""
    if fmt == "pdf" or as_file or count is None:
        return False
    return count <= settings.PORTAL_EXPORT_STREAM_MAX_ROWS


@require_POST
@allowed_if(policy.may_export_reports)
def export_job_start(request: AuthenticatedHttpRequest, name: str, fmt: str) -> HttpResponseBase:
    if name not in REPORTS or fmt not in FORMATS:
        raise Http404("No such report or format.")
    filters = ReportFilterForm(request.POST or None).filters()
    as_file = request.POST.get("as_file") == "1"
    try:
        if _streams(fmt, REPORTS[name].count(user=request.user, filters=filters), as_file):
            export = export_start(user=request.user, name=name, fmt=fmt, filters=filters)
            response = StreamingHttpResponse(export.text(), content_type=CONTENT_TYPES[fmt])
            response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
            return response
        job = export_jobs.export_job_start(user=request.user, report=name, fmt=fmt, filters=filters)
    except DomainError as error:
        return refused_export(request, name, error)
    return redirect("audits:export_job_detail", uuid=job.uuid)


@require_GET
@allowed_if(policy.may_export_reports)
def export_job_detail(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    job = selectors.export_job_for(user=request.user, uuid=uuid)
    context = {
        "job": job,
        "finished": job.status in _FINISHED,
        "status_url": reverse("audits:export_job_status", args=[job.uuid]),
    }
    return render(request, "audits/reports/export_job.html", context)


@require_GET
@allowed_if(policy.may_export_reports)
def export_job_status(request: AuthenticatedHttpRequest, uuid: UUID) -> JsonResponse:
    """What the job page's script polls: status, progress and, once done, the download link."""
    job = selectors.export_job_for(user=request.user, uuid=uuid)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "done": job.progress_done,
            "total": job.progress_total,
            "finished": job.status in _FINISHED,
            "error": job.error,
            "download_url": reverse("audits:export_job_download", args=[job.uuid])
            if job.status == ExportJobStatus.DONE
            else None,
        },
        headers={"Cache-Control": "no-store"},
    )


@require_GET
@allowed_if(policy.may_export_reports)
def export_job_download(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponseBase:
    job = selectors.export_job_for(user=request.user, uuid=uuid)
    try:
        stream = export_jobs.export_job_download(user=request.user, job=job)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("audits:export_job_detail", uuid=job.uuid)
    content_type = "application/zip" if job.format == "zip" else CONTENT_TYPES[job.format]
    return FileResponse(
        stream, as_attachment=True, filename=export_jobs.download_name(job), content_type=content_type
    )
