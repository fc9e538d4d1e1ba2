"""The auditors' page of the ledger: every entry, newest first."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from ledger import selectors
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if

ENTRIES_PER_PAGE = 50


@allowed_if(policy.may_view_ledger)
def ledger_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    entries = selectors.ledger_entries(user=request.user)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "ledger/ledger_list.html", {"page": page})
