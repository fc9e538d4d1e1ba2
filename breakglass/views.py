from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.decorators import portal_user_required


@portal_user_required
def account_list(request: HttpRequest) -> HttpResponse:
    return render(request, "breakglass/account_list.html", {})
