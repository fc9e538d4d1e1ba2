from __future__ import annotations

from django.urls import include, path

from breakglass import views

app_name = "breakglass"

urlpatterns = [
    path("", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/<uuid:uuid>/", views.account_detail, name="account_detail"),
    path("accounts/<uuid:uuid>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<uuid:uuid>/credential/", views.credential_edit, name="credential_edit"),
    path("accounts/<uuid:uuid>/devices/add/", views.device_assign, name="device_assign"),
    path(
        "accounts/<uuid:uuid>/devices/<uuid:device_uuid>/remove/",
        views.device_unassign,
        name="device_unassign",
    ),
    path("accounts/<uuid:uuid>/grants/new/", views.grant_create, name="grant_create"),
    path("grants/<uuid:uuid>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("grants/<uuid:uuid>/review/", views.grant_review, name="grant_review"),
    path("devices/", views.device_list, name="device_list"),
    path("devices/new/", views.device_create, name="device_create"),
    path("devices/<uuid:uuid>/edit/", views.device_edit, name="device_edit"),
    path("", include("breakglass.request_urls")),
    path("", include("breakglass.review_urls")),
    path("", include("breakglass.drill_urls")),
]
