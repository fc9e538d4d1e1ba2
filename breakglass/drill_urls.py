from __future__ import annotations

from django.urls import path

from breakglass import drill_views

urlpatterns = [
    path("drills/", drill_views.drill_list, name="drill_list"),
    path("drills/<uuid:uuid>/", drill_views.drill_detail, name="drill_detail"),
    path("accounts/<uuid:uuid>/drills/new/", drill_views.drill_schedule, name="drill_schedule"),
    path("reachability/", drill_views.reachability_page, name="reachability"),
    path("reachability/<uuid:uuid>/confirm/", drill_views.reachability_confirm, name="reachability_confirm"),
]
