"""People pages; included under ``people/`` with the namespace ``people``."""

from __future__ import annotations

from django.urls import path

from breakglass import people_views

app_name = "people"

urlpatterns = [
    path("", people_views.people_index, name="people_index"),
    path("me/", people_views.my_profile, name="my_profile"),
    path("roles/add/", people_views.role_member_add, name="role_member_add"),
    path("person/<str:username>/", people_views.person_detail, name="person_detail"),
    path(
        "person/<str:username>/roles/<str:role>/remove/",
        people_views.role_member_remove,
        name="role_member_remove",
    ),
]
