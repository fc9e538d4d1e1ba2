from __future__ import annotations

from django.urls import path

from audits import evidence_views, report_views, views

app_name = "audits"

urlpatterns = [
    path("findings/", views.finding_list, name="finding_list"),
    path("findings/<uuid:uuid>/", views.finding_detail, name="finding_detail"),
    path("findings/<uuid:uuid>/triage/", views.finding_triage, name="finding_triage"),
    path("incidents/<uuid:event_uuid>/", views.incident_detail, name="incident_detail"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/upload/", views.log_upload, name="log_upload"),
    path("runs/<uuid:uuid>/", views.run_detail, name="run_detail"),
    path("reports/", report_views.report_index, name="report_index"),
    path("reports/evidence/", evidence_views.evidence_bundle, name="evidence_bundle"),
    path("reports/evidence/verify/", evidence_views.evidence_verify, name="evidence_verify"),
    path("reports/<slug:name>/<slug:fmt>/", report_views.report_export, name="report_export"),
]
