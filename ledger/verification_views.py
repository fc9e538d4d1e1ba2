"""Starting a verification of the chain from the ledger page, and one entry's own page (where the
page's red panel links when verification found the chain broken)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ledger import verification_runs
from ledger.links import target_path
from ledger.models import LedgerEntry
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if
from portal.identity import step_up_purpose, step_up_required


@require_POST
@allowed_if(policy.may_verify_ledger)
@step_up_purpose(lambda request: "Verify the audit ledger's chain now")
@step_up_required
def verification_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    before = verification_runs.running_verification()
    row = verification_runs.verification_request(requested_by=request.user)
    if before is not None and before.pk == row.pk:
        messages.info(request, "A verification is already running; its result appears here when it ends.")
    elif row.finished_at is None:
        messages.success(request, "Verification started; its result appears here when it ends.")
    else:
        messages.success(request, "Verification finished.")
    return redirect("ledger:ledger_list")


@allowed_if(policy.may_view_ledger)
def entry_detail(request: AuthenticatedHttpRequest, sequence: int) -> HttpResponse:
    entry = LedgerEntry.objects.filter(sequence=sequence).first()
    if entry is None:
        raise Http404("No ledger entry has this number.")
    previous = LedgerEntry.objects.filter(sequence=sequence - 1).only("sequence", "hash").first()
    return render(
        request,
        "ledger/entry_detail.html",
        {"entry": entry, "link": target_path(entry), "previous": previous},
    )
