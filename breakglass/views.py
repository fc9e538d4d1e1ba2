"""Inventory pages. Each view: decorators (login, policy, step-up), a selector, a form, one
service, a redirect. Rule violations come back from the service as DomainError on the form."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from breakglass import drill_selectors, forms, list_forms, selectors, services
from breakglass.choices import CredentialStorage
from portal import policy
from portal.confirm import Confirmation, confirmation_page, confirmed
from portal.decorators import AuthenticatedHttpRequest, allowed_if, portal_user_required
from portal.forms import add_domain_error
from portal.identity import form_draft, step_up_keeping, step_up_purpose, step_up_required
from portal.paging import CURSOR_PARAMETER, keyset_page
from portal.people import person_label

manage_only = allowed_if(policy.may_manage_inventory)


@portal_user_required
def account_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = list_forms.AccountSearchForm(request.GET or None)
    accounts = selectors.accounts_visible_to(
        user=request.user, search=form.value("q"), environment=form.value("environment")
    )
    page = keyset_page(accounts, ordering=("name", "id"), cursor=request.GET.get(CURSOR_PARAMETER))
    return render(request, "breakglass/account_list.html", {"accounts": page, "page": page, "form": form})


@portal_user_required
def account_detail(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    account = selectors.account_for(user=request.user, uuid=uuid)
    can_manage = policy.may_manage_inventory(request.user)
    return render(
        request,
        "breakglass/account_detail.html",
        {
            "account": account,
            "grants": selectors.account_grants(user=request.user, account=account),
            "can_manage": can_manage,
            "assign_form": forms.AssignDeviceForm(account=account) if can_manage else None,
            "drill": drill_selectors.account_drill_status(account=account),
        },
    )


@manage_only
@step_up_required
def account_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = forms.AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Added {account}.")
            return redirect("breakglass:account_detail", uuid=account.uuid)
    return render(request, "breakglass/form.html", {"form": form, "title": "Add an AWS account"})


@manage_only
@step_up_required
def account_edit(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    account = selectors.account_for(user=request.user, uuid=uuid)
    form = forms.AccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        approvers, custodians = fields.pop("approvers"), fields.pop("custodians")
        try:
            updated = services.account_update(
                actor=request.user,
                account=account,
                approvers=approvers,
                custodians=custodians,
                **fields,
            )
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            if not updated.governed:
                messages.warning(
                    request,
                    f"Saved {account}. It is still ungoverned: add its custodians, then people with a "
                    "grant may request its root.",
                )
            elif not account.governed:
                messages.success(
                    request, f"Saved {account}. It is governed now: people with a grant may request its root."
                )
            else:
                messages.success(request, f"Saved {account}.")
            return redirect("breakglass:account_detail", uuid=account.uuid)
    return render(
        request, "breakglass/form.html", {"form": form, "title": f"Edit {account}", "back": account}
    )


@manage_only
@step_up_keeping("storage", "safe_location", "envelope_number")
def credential_edit(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    account = selectors.account_for(user=request.user, uuid=uuid)
    current = getattr(account, "root_credential", None)
    initial = {"storage": current.storage if current else CredentialStorage.PHYSICAL}
    if current is not None:
        initial.update(safe_location=current.safe_location, envelope_number=current.envelope_number)
    initial.update(form_draft(request))
    form = forms.CredentialForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["storage"] == CredentialStorage.PORTAL:
                services.root_credential_store_in_portal(
                    actor=request.user,
                    account=account,
                    password=data["password"],
                )
            elif data["storage"] == CredentialStorage.PHYSICAL:
                services.root_credential_record_physical(
                    actor=request.user,
                    account=account,
                    safe_location=data["safe_location"],
                    envelope_number=data["envelope_number"],
                )
            else:
                services.root_credential_record_none(actor=request.user, account=account)
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Recorded where the root password of {account} lives.")
            return redirect("breakglass:account_detail", uuid=account.uuid)
    return render(
        request,
        "breakglass/form.html",
        # secret_form: the page carries the token that keeps it valid past the step-up window.
        {"form": form, "title": f"Root password of {account}", "back": account, "secret_form": True},
    )


@manage_only
@step_up_required
def device_assign(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    """GET (the device chosen on the account page): a page saying what adding it will do.
    POST (from that page): add it. Both after a fresh second factor: a device on an account's
    root user is a device someone may be handed over in a check-out."""
    account = selectors.account_for(user=request.user, uuid=uuid)
    form = forms.AssignDeviceForm(request.POST if request.method == "POST" else request.GET, account=account)
    if not form.is_valid():
        refusal = " ".join(str(error) for error in form.non_field_errors())
        messages.error(request, refusal or "Choose a device to add.")
        return redirect("breakglass:account_detail", uuid=account.uuid)
    device = form.cleaned_data["device"]
    if request.method != "POST":
        return render(
            request,
            "breakglass/confirm.html",
            {
                "title": f"Add {device} to {account}?",
                "back": account,
                "facts": [
                    ("Device", f"{device} ({device.get_kind_display()}, serial {device.serial_number})"),
                    ("Stored", device.storage_location or "not recorded"),
                    ("Account", f"{account.name} ({account.account_id})"),
                ],
                "consequence": (
                    f"{device} becomes an MFA device of the root user of {account}: it may be handed "
                    "over to whoever checks out this account's root, and it counts toward the limit "
                    "of eight devices. Register it on the root user in AWS as well."
                ),
                "hidden": {"device": device.pk},
                "button": "Add the device",
            },
        )
    try:
        services.mfa_device_assign(actor=request.user, device=device, account=account)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{device} now protects {account}.")
    return redirect("breakglass:account_detail", uuid=account.uuid)


@manage_only
@step_up_purpose(lambda request, uuid, device_uuid: "Remove an MFA device from an account")
@step_up_required
def device_unassign(request: AuthenticatedHttpRequest, uuid: UUID, device_uuid: UUID) -> HttpResponse:
    """A page saying what removing the device will do; its POST removes it (fresh second factor)."""
    account = selectors.account_for(user=request.user, uuid=uuid)
    device = selectors.device_for(user=request.user, uuid=device_uuid)
    back = reverse("breakglass:account_detail", kwargs={"uuid": account.uuid})
    if not confirmed(request):
        return confirmation_page(
            request,
            Confirmation(
                title=f"Remove {device} from {account}?",
                facts=[
                    ("Device", f"{device} ({device.get_kind_display()}, serial {device.serial_number})"),
                    ("Account", f"{account.name} ({account.account_id})"),
                ],
                consequence=(
                    f"{device} will no longer be offered for hand-over in check-outs of {account}. "
                    "Deregister it from the root user in AWS as well; an account without an MFA "
                    "device is flagged on every page."
                ),
                button="Remove the device",
                cancel_url=back,
            ),
        )
    try:
        services.mfa_device_unassign(actor=request.user, device=device, account=account)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{device} no longer protects {account}.")
    return redirect(back)


@allowed_if(policy.may_view_devices)
def device_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = list_forms.DeviceSearchForm(request.GET or None)
    devices = selectors.devices_visible_to(
        user=request.user, search=form.value("q"), custody=form.value("custody")
    )
    page = keyset_page(devices, ordering=("label", "id"), cursor=request.GET.get(CURSOR_PARAMETER))
    return render(
        request,
        "breakglass/device_list.html",
        {
            "devices": page,
            "page": page,
            "form": form,
            "can_manage": policy.may_manage_inventory(request.user),
        },
    )


@manage_only
def device_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = forms.MfaDeviceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.mfa_device_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Added {device}.")
            return redirect("breakglass:device_list")
    return render(request, "breakglass/form.html", {"form": form, "title": "Add an MFA device"})


@manage_only
@step_up_required
def device_edit(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    device = selectors.device_for(user=request.user, uuid=uuid)
    form = forms.MfaDeviceEditForm(
        request.POST or None,
        initial={
            "label": device.label,
            "storage_location": device.storage_location,
            "custody_state": device.custody_state,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.mfa_device_update(actor=request.user, device=device, **form.cleaned_data)
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Saved {device}.")
            return redirect("breakglass:device_list")
    return render(
        request,
        "breakglass/form.html",
        {"form": form, "title": f"Edit {device}", "intro": forms.CUSTODY_EDIT_CONSEQUENCES},
    )


@manage_only
@step_up_required
def grant_create(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    account = selectors.account_for(user=request.user, uuid=uuid)
    form = forms.GrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_create(actor=request.user, account=account, **form.cleaned_data)
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['user']} may now request root of {account}.")
            return redirect("breakglass:account_detail", uuid=account.uuid)
    return render(
        request,
        "breakglass/form.html",
        {"form": form, "title": f"Grant access to {account}", "back": account},
    )


@manage_only
@step_up_purpose(lambda request, uuid: "Revoke a grant")
@step_up_required
def grant_revoke(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    """A page naming the grant and what revoking it ends; its POST revokes (fresh second factor)."""
    grant = selectors.grant_for(user=request.user, uuid=uuid)
    back = reverse("breakglass:account_detail", kwargs={"uuid": grant.account.uuid})
    if not confirmed(request):
        return confirmation_page(
            request,
            Confirmation(
                title=f"Revoke {person_label(grant.user)}'s grant on {grant.account}?",
                facts=[
                    ("Person", person_label(grant.user)),
                    ("Account", f"{grant.account.name} ({grant.account.account_id})"),
                    ("Grant", str(grant)),
                ],
                consequence=(
                    f"{person_label(grant.user)} can no longer request the root user of {grant.account}; "
                    "a request already filed on this grant is refused at its next step."
                ),
                button="Revoke the grant",
                cancel_url=back,
            ),
        )
    try:
        services.grant_revoke(actor=request.user, grant=grant)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Revoked: {grant}.")
    return redirect(back)


@manage_only
@step_up_required
def grant_review(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    grant = selectors.grant_for(user=request.user, uuid=uuid)
    # An expiry already past the maximum (a grant from before the bound) is offered at the bound.
    keep_until = min(grant.expires_at, services.latest_grant_expiry())
    form = forms.GrantReviewForm(
        request.POST or None, initial={"expires_at": keep_until.strftime("%Y-%m-%dT%H:%M")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_review(actor=request.user, grant=grant, expires_at=form.cleaned_data["expires_at"])
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Reviewed: {grant}.")
            return redirect("breakglass:account_detail", uuid=grant.account.uuid)
    return render(
        request, "breakglass/form.html", {"form": form, "title": f"Review: {grant}", "back": grant.account}
    )
