from __future__ import annotations

from django.urls import path

from breakglass import views

app_name = "breakglass"

urlpatterns = [
    path("", views.account_list, name="account_list"),
]
