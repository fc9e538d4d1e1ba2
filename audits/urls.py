from __future__ import annotations

from django.urls import path

from audits import evidence_views, export_job_views, report_views, source_views, task_run_views, views
from audits.organization import views as organization_views
from audits.posture.urls import urlpatterns as posture_urlpatterns

app_name = "audits"

urlpatterns = [
    # The AssumeRoot session's "Run task": here because it calls AWS; shown on the request page.
    path("sessions/<uuid:uuid>/run-task/", task_run_views.request_run_task, name="request_run_task"),
    path("findings/", views.finding_list, name="finding_list"),
    path("findings/<uuid:uuid>/", views.finding_detail, name="finding_detail"),
    path("findings/<uuid:uuid>/triage/", views.finding_triage, name="finding_triage"),
    path("incidents/<uuid:event_uuid>/", views.incident_detail, name="incident_detail"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/upload/", views.log_upload, name="log_upload"),
    path("runs/<uuid:uuid>/", views.run_detail, name="run_detail"),
    path("sources/", source_views.source_list, name="source_list"),
    path("sources/new/", source_views.source_create, name="source_create"),
    path("sources/<uuid:uuid>/edit/", source_views.source_edit, name="source_edit"),
    path("sources/<uuid:uuid>/disable/", source_views.source_disable, name="source_disable"),
    path("sources/<uuid:uuid>/enable/", source_views.source_enable, name="source_enable"),
    path("organization/", organization_views.organization_overview, name="organization"),
    path("organization/sync/", organization_views.organization_sync_now, name="organization_sync_now"),
    path(
        "organization/syncs/<uuid:uuid>/",
        organization_views.organization_sync_detail,
        name="organization_sync",
    ),
    path("reports/", report_views.report_index, name="report_index"),
    path("reports/evidence/", evidence_views.evidence_bundle, name="evidence_bundle"),
    path("reports/evidence/verify/", evidence_views.evidence_verify, name="evidence_verify"),
    # Before reports/<name>/<fmt>/, which "jobs/<uuid>" would also match.
    path("reports/jobs/<uuid:uuid>/", export_job_views.export_job_detail, name="export_job_detail"),
    path("reports/jobs/<uuid:uuid>/status/", export_job_views.export_job_status, name="export_job_status"),
    path(
        "reports/jobs/<uuid:uuid>/download/", export_job_views.export_job_download, name="export_job_download"
    ),
    path("reports/<slug:name>/<slug:fmt>/", report_views.report_export, name="report_export"),
    *posture_urlpatterns,
    path(
        "reports/<slug:name>/<slug:fmt>/prepare/", export_job_views.export_job_start, name="export_job_start"
    ),
]
