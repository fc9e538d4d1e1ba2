"""Pages of the evidence side."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audits import selectors
from portal import policy
from portal.decorators import allowed_if


@allowed_if(policy.may_view_ledger)
def ledger_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.ledger_entries(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "audits/ledger_list.html", {"page": page})
