"""The API's pages (tokens, documentation) in the ``api`` namespace. The API itself is mounted at
``/api/v1/`` by ``portal/urls.py`` (``api.v1.api.urls``, namespace ``api_v1``): everything under
``/api/v1/`` is the token API, and no page lives there."""

from __future__ import annotations

from django.urls import path

from api import views

app_name = "api"

urlpatterns = [
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<uuid:uuid>/revoke/", views.token_revoke, name="token_revoke"),
    path("docs/", views.api_docs, name="docs"),
]
