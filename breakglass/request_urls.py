"""URLs of the break-glass workflow, included into the ``breakglass`` namespace by
``breakglass/urls.py`` (no ``app_name`` here, so the names are ``breakglass:request_*``)."""

from __future__ import annotations

from django.urls import path

from breakglass import request_list_views as lists
from breakglass import request_views as views
from breakglass import task_run_views

urlpatterns = [
    path("requests/", lists.request_list, name="request_list"),
    path("requests/new/", views.request_create, name="request_create"),
    path("requests/approvals/", lists.request_approvals, name="request_approvals"),
    path("requests/active/", lists.request_active, name="request_active"),
    path("custody/", lists.custody_board, name="custody_board"),
    path("requests/<uuid:uuid>/", views.request_detail, name="request_detail"),
    path("requests/<uuid:uuid>/decide/", views.request_decide, name="request_decide"),
    path("requests/<uuid:uuid>/cancel/", views.request_cancel, name="request_cancel"),
    path("requests/<uuid:uuid>/self-authorise/", views.request_self_authorise, name="request_self_authorise"),
    path("requests/<uuid:uuid>/acknowledge/", views.request_acknowledge, name="request_acknowledge"),
    path("requests/<uuid:uuid>/check-out/", views.request_check_out, name="request_check_out"),
    path("requests/<uuid:uuid>/hand-over/", views.request_hand_over, name="request_hand_over"),
    path("requests/<uuid:uuid>/reveal/", views.request_reveal, name="request_reveal"),
    path("requests/<uuid:uuid>/check-in/", views.request_check_in, name="request_check_in"),
    path("requests/<uuid:uuid>/rotation/", views.request_confirm_rotation, name="request_confirm_rotation"),
    path("requests/<uuid:uuid>/revoke/", views.request_revoke, name="request_revoke"),
    path(
        "requests/<uuid:uuid>/task-runs/<uuid:run_uuid>/",
        task_run_views.task_run_detail,
        name="task_run_detail",
    ),
    path(
        "requests/<uuid:uuid>/devices/<uuid:device_uuid>/back-in-safe/",
        views.request_confirm_device_return,
        name="request_confirm_device_return",
    ),
]
