"""The evidence bundle pages: making a bundle from the reports page (the zip is written to a
temporary file and streamed from it) and checking an uploaded one, with the public keys shown.
Auditors and administrators only, like the reports."""

from __future__ import annotations

import logging
import tempfile

from django.core.exceptions import ImproperlyConfigured
from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from audits.evidence import evidence_keys, verify_bundle, write_bundle
from audits.evidence_forms import EvidenceBundleForm, EvidenceUploadForm
from audits.report_views import report_sections
from audits.reports import FORMATS, ReportFilter
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if

logger = logging.getLogger(__name__)


@require_POST
@allowed_if(policy.may_export_reports)
def evidence_bundle(request: AuthenticatedHttpRequest) -> HttpResponse | FileResponse:
    form = EvidenceBundleForm(request.POST, auto_id="bundle-%s")
    if not form.is_valid():
        context = {"sections": report_sections(), "formats": FORMATS, "bundle_form": form}
        return render(request, "audits/reports/index.html", context, status=400)
    since, until = form.period()
    filters = ReportFilter(since=since, until=until, account_id=form.cleaned_data.get("account") or "")
    # On disk, not in memory: the bundle of a long period can be large. FileResponse streams the
    # file and closes it (which removes it) once sent.
    target = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it)
    try:
        write_bundle(target, user=request.user, filters=filters)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    stamp = f"{timezone.now():%Y%m%dT%H%M%SZ}"
    return FileResponse(
        target, as_attachment=True, filename=f"evidence-{stamp}.zip", content_type="application/zip"
    )


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
        result = verify_bundle(uploaded.file)
    status = 200 if request.method == "GET" or result is not None else 400
    context = {"form": form, "result": result, "public_keys": list(public_keys.items())}
    return render(request, "audits/evidence/verify.html", context, status=status)
