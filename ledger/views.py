"""The auditors' page of the ledger: every entry, newest first, filtered like the ledger report
(the same ``LedgerFilter``), each entry linked to the page of what it names."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from ledger import selectors, verification_selectors
from ledger.forms import LedgerFilterForm
from ledger.links import target_path
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if
from portal.paging import CURSOR_PARAMETER, keyset_page

ENTRIES_PER_PAGE = 50


@allowed_if(policy.may_view_ledger)
def ledger_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = LedgerFilterForm(request.GET or None)
    entries = selectors.ledger_entries(user=request.user, filters=form.filters())
    # Newest first by the chain's own unique, indexed sequence: the same time on the last page as on
    # the first (OFFSET and COUNT grew with the 300,000 entries of issue 13).
    page = keyset_page(
        entries, ordering=("-sequence",), cursor=request.GET.get(CURSOR_PARAMETER), size=ENTRIES_PER_PAGE
    )
    rows = [(entry, target_path(entry)) for entry in page.items]
    filtered = any(key != CURSOR_PARAMETER for key in request.GET)
    context = {"page": page, "rows": rows, "form": form, "filtered": filtered}
    context["verification"] = verification_selectors.verification_panel()
    context["may_verify"] = policy.may_verify_ledger(request.user)
    return render(request, "ledger/ledger_list.html", context)
