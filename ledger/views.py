"""The auditors' page of the ledger: every entry, newest first, filtered like the ledger report
(the same ``LedgerFilter``), each entry linked to the page of what it names."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from ledger import selectors, verification_selectors
from ledger.forms import LedgerFilterForm
from ledger.links import target_path
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if

ENTRIES_PER_PAGE = 50


@allowed_if(policy.may_view_ledger)
def ledger_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = LedgerFilterForm(request.GET or None)
    entries = selectors.ledger_entries(user=request.user, filters=form.filters())
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(entry, target_path(entry)) for entry in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "rows": rows, "form": form, "query": query.urlencode(), "filtered": bool(query)}
    context["verification"] = verification_selectors.verification_panel()
    context["may_verify"] = policy.may_verify_ledger(request.user)
    return render(request, "ledger/ledger_list.html", context)
