"""Ingestion sources pages: the list (auditors and administrators), add and edit (administrators,
fresh second factor), disable (a confirmation page and a fresh second factor) and enable."""

from __future__ import annotations

import json
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from audits import source_selectors, source_services
from audits.source_forms import IngestionSourceForm
from portal import policy
from portal.confirm import Confirmation, confirmation_page, confirmed
from portal.decorators import AuthenticatedHttpRequest, allowed_if
from portal.forms import add_domain_error
from portal.identity import step_up_purpose, step_up_required

manage_only = allowed_if(policy.may_manage_sources)


@allowed_if(policy.may_view_ingestion)
def source_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "audits/sources/source_list.html",
        {
            "sources": source_selectors.ingestion_sources(user=request.user),
            "can_manage": policy.may_manage_sources(request.user),
        },
    )


@manage_only
@step_up_purpose(lambda request: "Add an ingestion source")
@step_up_required
def source_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = IngestionSourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = source_services.ingestion_source_create(
                actor=request.user, enabled=True, **form.cleaned_data
            )
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Added {source}; beat reads it every {source.schedule_seconds} s.")
            return redirect("audits:source_list")
    return render(
        request, "audits/sources/source_form.html", {"form": form, "title": "Add an ingestion source"}
    )


@manage_only
@step_up_purpose(lambda request, uuid: "Edit an ingestion source")
@step_up_required
def source_edit(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    source = source_selectors.ingestion_source_for(user=request.user, uuid=uuid)
    initial = {
        "name": source.name,
        "kind": source.kind,
        "config": json.dumps(source.config, indent=2),
        "schedule_seconds": source.schedule_seconds,
    }
    form = IngestionSourceForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            source_services.ingestion_source_update(
                actor=request.user,
                source=source,
                name=data["name"],
                config=data["config"],
                schedule_seconds=data["schedule_seconds"],
            )
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Saved {data['name']}.")
            return redirect("audits:source_list")
    return render(
        request,
        "audits/sources/source_form.html",
        {"form": form, "title": f"Edit {source}", "source": source},
    )


@manage_only
@step_up_purpose(lambda request, uuid: "Disable an ingestion source")
@step_up_required
def source_disable(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    source = source_selectors.ingestion_source_for(user=request.user, uuid=uuid)
    back = reverse("audits:source_list")
    if not confirmed(request):
        return confirmation_page(
            request,
            Confirmation(
                title=f"Disable {source}?",
                facts=[
                    ("Source", source.name),
                    ("Kind", source.get_kind_display()),
                    ("Read every", f"{source.schedule_seconds} s"),
                ],
                consequence=(
                    "Beat stops reading it: root events arriving there are not stored, and no finding "
                    "is raised for them, until it is enabled again. Its position is kept, so enabling "
                    "it reads what arrived meanwhile (within the source's own retention)."
                ),
                button="Disable the source",
                cancel_url=back,
            ),
        )
    try:
        source_services.ingestion_source_set_enabled(actor=request.user, source=source, enabled=False)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{source.name} is disabled.")
    return redirect(back)


@require_POST
@manage_only
def source_enable(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    source = source_selectors.ingestion_source_for(user=request.user, uuid=uuid)
    source_services.ingestion_source_set_enabled(actor=request.user, source=source, enabled=True)
    messages.success(request, f"{source.name} is enabled; beat reads it within {source.schedule_seconds} s.")
    return redirect("audits:source_list")
