"""Export jobs through the API: a report (any format) or an evidence bundle made by a worker, then
polled and downloaded, exactly as the Reports page does it (``audits.export_jobs``): the export is
recorded in the ledger when it starts, only its requester may see or download it, and the file
expires after ``PORTAL_EXPORT_KEEP_HOURS``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import FileResponse, HttpRequest
from ninja import Router, Schema, Status

from api import schemas
from api.auth import ApiRefusalError, caller
from api.choices import Scope
from api.endpoints.inventory import scopes
from api.endpoints.reports import ReportQuery
from audits import export_jobs, selectors
from audits.models import ExportJob
from audits.report_forms import ReportFilterForm
from audits.reports import FORMATS, REPORTS
from audits.reports.formats import CONTENT_TYPES
from portal import policy

router = Router(tags=["exports"])


class ExportIn(ReportQuery):
    """``report``: a report's name (see ``GET /reports``) or ``evidence`` (a signed bundle; ``format``
    zip, ``since`` and ``until`` required); the filters are the Reports page's, by the same names."""

    report: str
    format: str


class ExportJobOut(Schema):
    uuid: UUID
    report: str
    format: str
    status: str
    progress_done: int
    progress_total: int | None
    error: str
    created_at: datetime
    expires_at: datetime | None
    sha256: str
    size: int | None
    download: str | None


def _out(job: ExportJob) -> dict[str, Any]:
    done = job.status == "done"
    return {
        "uuid": job.uuid,
        "report": job.report,
        "format": job.format,
        "status": job.status,
        "progress_done": job.progress_done,
        "progress_total": job.progress_total,
        "error": job.error,
        "created_at": job.created_at,
        "expires_at": job.expires_at,
        "sha256": job.sha256 if done else "",
        "size": job.size if done else None,
        "download": f"/api/v1/exports/{job.uuid}/download" if done else None,
    }


@router.post(
    "/exports",
    response=schemas.answers(202, ExportJobOut),
    summary="Start an export job (a report, or an evidence bundle); poll it, then download",
    openapi_extra=scopes(Scope.EXPORT_REPORTS),
)
def export_create(request: HttpRequest, body: ExportIn) -> Status[dict[str, Any]]:
    user = caller(request, Scope.EXPORT_REPORTS, allowed=policy.may_export_reports, writes=True)
    fields = body.dict()
    report, fmt = fields.pop("report"), fields.pop("format")
    known = (report == export_jobs.EVIDENCE and fmt == "zip") or (report in REPORTS and fmt in FORMATS)
    if not known:
        raise ApiRefusalError(
            404,
            f"No such report or format; reports: {', '.join(REPORTS)} (formats {', '.join(FORMATS)}), "
            f"or {export_jobs.EVIDENCE} (zip).",
        )
    form = ReportFilterForm({name: value for name, value in fields.items() if value})
    if not form.is_valid():
        raise ApiRefusalError(
            400,
            "The filters are not valid; see errors.",
            errors={
                (name if name != "__all__" else ""): [str(m) for m in msgs]
                for name, msgs in form.errors.items()
            },
        )
    job = export_jobs.export_job_start(user=user, report=report, fmt=fmt, filters=form.filters())
    return Status(202, _out(job))


@router.get(
    "/exports/{uuid:uuid}",
    response=schemas.answers(200, ExportJobOut),
    summary="One of your export jobs: status, progress, and the download link once done",
    openapi_extra=scopes(Scope.EXPORT_REPORTS),
)
def export_detail(request: HttpRequest, uuid: UUID) -> dict[str, Any]:
    user = caller(request, Scope.EXPORT_REPORTS, allowed=policy.may_export_reports)
    return _out(selectors.export_job_for(user=user, uuid=uuid))


@router.get(
    "/exports/{uuid:uuid}/download",
    response=schemas.answers(200, None),
    summary="The finished export's file (its download is a ledger entry)",
    openapi_extra=scopes(Scope.EXPORT_REPORTS),
)
def export_download(request: HttpRequest, uuid: UUID) -> FileResponse:
    user = caller(request, Scope.EXPORT_REPORTS, allowed=policy.may_export_reports, writes=True)
    job = selectors.export_job_for(user=user, uuid=uuid)
    stream = export_jobs.export_job_download(user=user, job=job)
    content_type = "application/zip" if job.format == "zip" else CONTENT_TYPES[job.format]
    return FileResponse(
        stream, as_attachment=True, filename=export_jobs.download_name(job), content_type=content_type
    )
