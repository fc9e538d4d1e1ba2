"""Reports: what ``audits.reports.export`` offers the Reports page today, streamed (CSV, JSON) or
whole (PDF). Each export is the ledger entry ``export_start`` writes before the first byte, besides
the token's own ``api_token.used`` entry. Large exports and evidence bundles are jobs to start, poll
and download: ``api.endpoints.exports``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from ninja import Query, Router, Schema

from api import schemas
from api.auth import ApiRefusalError, caller
from api.choices import Scope
from api.endpoints.inventory import scopes
from audits.report_forms import ReportFilterForm
from audits.reports import FORMATS, REPORTS, export_start
from audits.reports.formats import CONTENT_TYPES
from portal import policy

router = Router(tags=["reports"])

_FILTER_FIELDS = (
    "since",
    "until",
    "account",
    "environment",
    "person",
    "status",
    "severity",
    "kind",
    "action",
    "request_id",
    "category",
)


class ReportQuery(Schema):
    """The Reports page's filters, by the same names (each report reads those that apply to it)."""

    since: str = ""
    until: str = ""
    account: str = ""
    environment: str = ""
    person: str = ""
    status: str = ""
    severity: str = ""
    kind: str = ""
    action: str = ""
    request_id: str = ""
    category: str = ""


@router.get(
    "/reports",
    response=schemas.answers(200, list[schemas.ReportInfo]),
    summary="The reports there are, their columns and the filters each reads",
    openapi_extra=scopes(Scope.EXPORT_REPORTS),
)
def report_list(request: HttpRequest) -> list[dict[str, Any]]:
    caller(request, Scope.EXPORT_REPORTS, allowed=policy.may_export_reports)
    return [
        {
            "name": report.name,
            "title": report.title,
            "columns": list(report.columns),
            "filters": list(report.filter_fields),
            "formats": list(FORMATS),
        }
        for report in REPORTS.values()
    ]


@router.get(
    "/reports/{name}/{fmt}",
    response=schemas.answers(200, None),
    summary="Export one report (csv and json are streamed; pdf is whole); recorded in the ledger first",
    openapi_extra={
        **scopes(Scope.EXPORT_REPORTS),
        "responses": {
            200: {
                "description": "The report",
                "content": {content_type: {} for content_type in CONTENT_TYPES.values()},
            }
        },
    },
)
def report_export(request: HttpRequest, name: str, fmt: str, query: Query[ReportQuery]) -> HttpResponseBase:
    user = caller(request, Scope.EXPORT_REPORTS, allowed=policy.may_export_reports, writes=True)
    if name not in REPORTS or fmt not in FORMATS:
        raise ApiRefusalError(
            404, f"No such report or format; reports: {', '.join(REPORTS)}; formats: {', '.join(FORMATS)}."
        )
    form = ReportFilterForm({field: getattr(query, field) for field in _FILTER_FIELDS})
    if not form.is_valid():
        raise ApiRefusalError(
            400,
            "The filters are not valid; see errors.",
            errors={
                ("" if field == "__all__" else field): [str(message) for message in messages]
                for field, messages in form.errors.items()
            },
        )
    export = export_start(user=user, name=name, fmt=fmt, filters=form.filters())
    response: HttpResponseBase
    if fmt == "pdf":
        response = HttpResponse(export.pdf(), content_type=CONTENT_TYPES[fmt])
    else:
        response = StreamingHttpResponse(export.text(), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
