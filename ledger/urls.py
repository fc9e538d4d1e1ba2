from __future__ import annotations

from django.urls import path

from ledger import verification_views, views

app_name = "ledger"

# Mounted at /audit/ledger/ (portal.urls), where the page was when it belonged to ``audits``.
urlpatterns = [
    path("", views.ledger_list, name="ledger_list"),
    path("entries/<int:sequence>/", verification_views.entry_detail, name="entry_detail"),
    path("verify/", verification_views.verification_start, name="verification_start"),
]
