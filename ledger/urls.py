from __future__ import annotations

from django.urls import path

from ledger import views

app_name = "ledger"

# Mounted at /audit/ledger/ (portal.urls), where the page was when it belonged to ``audits``.
urlpatterns = [
    path("", views.ledger_list, name="ledger_list"),
]
