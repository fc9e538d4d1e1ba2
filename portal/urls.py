from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from api.v1 import api as api_v1
from portal import home, views

admin.site.site_header = "Root break-glass portal administration"
# The admin signs in through allauth, so MFA applies there too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # allauth's re-authentication pages, answering a failed attempt with a redirect (portal.views).
    path("accounts/reauthenticate/", views.password_reauthenticate, name="account_reauthenticate"),
    path("accounts/2fa/reauthenticate/", views.code_reauthenticate, name="mfa_reauthenticate"),
    path("accounts/", include("allauth.urls")),
    path("inventory/", include("breakglass.urls")),
    path("inventory/", include("breakglass.channel_urls")),
    path("administration/", views.administration, name="administration"),
    path("people/", include("breakglass.people_urls")),
    path("audit/ledger/", include("ledger.urls")),
    path("audit/", include("audits.urls")),
    path("api/v1/", api_v1.urls),
    path("api/", include("api.urls")),
    path("admin/", admin.site.urls),
]
