"""Notification channel pages; included under ``inventory/`` with the namespace ``channels``."""

from __future__ import annotations

from django.urls import path

from breakglass import channel_views

app_name = "channels"

urlpatterns = [
    path("channels/", channel_views.channel_list, name="channel_list"),
    path("channels/new/", channel_views.channel_create, name="channel_create"),
    path("channels/<uuid:uuid>/enabled/", channel_views.channel_set_enabled, name="channel_set_enabled"),
    path("channels/<uuid:uuid>/delete/", channel_views.channel_delete, name="channel_delete"),
    path("channels/<uuid:uuid>/test/", channel_views.channel_test, name="channel_test"),
]
