"""Project-level views: the home redirect and the health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from portal import policy


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("account_login")
    if not policy.may_use_portal(request.user):
        return render(request, "no_role.html", status=403)
    return redirect("breakglass:account_list")


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for the load balancer; reveals nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
