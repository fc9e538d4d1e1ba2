"""The posture pages, under ``/audit/posture/`` (included by ``audits.urls``)."""

from __future__ import annotations

from django.urls import path

from audits.posture import views

urlpatterns = [
    path("posture/", views.organization_posture, name="organization_posture"),
    path("posture/contacts/", views.contacts_fix, name="contacts_fix"),
    path("posture/accounts/<uuid:uuid>/", views.account_posture, name="account_posture"),
    path("posture/accounts/<uuid:uuid>/check/", views.account_posture_check, name="account_posture_check"),
]
