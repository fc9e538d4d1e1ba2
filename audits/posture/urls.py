"""The posture pages, under ``/audit/posture/`` (included by ``audits.urls``)."""

from __future__ import annotations

from django.urls import path

from audits.posture import root_audit_views, views

urlpatterns = [
    path("posture/", views.organization_posture, name="organization_posture"),
    path("posture/contacts/", views.contacts_fix, name="contacts_fix"),
    path("posture/accounts/<uuid:uuid>/", views.account_posture, name="account_posture"),
    path("posture/accounts/<uuid:uuid>/check/", views.account_posture_check, name="account_posture_check"),
    path("posture/root-audit/", root_audit_views.root_audit_begin, name="root_audit_begin"),
    path("posture/root-audit/<uuid:uuid>/", root_audit_views.root_audit_detail, name="root_audit_detail"),
    path(
        "posture/root-audit/<uuid:uuid>/status/", root_audit_views.root_audit_status, name="root_audit_status"
    ),
]
