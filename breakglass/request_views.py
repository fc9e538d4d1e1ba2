"""Pages of the break-glass workflow: request, decide, check out, hand over, reveal, check in,
confirm the rotation, revoke (the lists each role works from are ``request_list_views``).

Each view: decorators (login and role, step-up for the dangerous actions), a selector, a form, one
lifecycle service, a redirect. The buttons a page shows and the services (under a row lock) ask the
same rules (``breakglass.rules.refusal_to_*``); a button only spares people an action that would be
refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from allauth.core.exceptions import ReauthenticationRequired
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from breakglass import custody, lifecycle, next_step, request_forms, request_selectors, rules
from breakglass.choices import CredentialStorage, Decision
from breakglass.models import AccessRequest
from breakglass.root_tasks import BY_CODE as ROOT_TASKS
from portal.confirm import Confirmation, confirmation_page, confirmed
from portal.decorators import AuthenticatedHttpRequest, portal_user_required
from portal.errors import DomainError
from portal.forms import add_domain_error
from portal.identity import (
    form_draft,
    recently_stepped_up,
    remember_step_up_purpose,
    step_up_keeping,
    step_up_purpose,
    step_up_required,
)
from portal.people import person_label

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


# --- What a step-up confirms ----------------------------------------------------------------


def _confirming(verb: str) -> Callable[..., str]:
    """A describer for ``step_up_purpose``: *<verb> BG-… on <account>* (no secret in it)."""

    def describe(request: AuthenticatedHttpRequest, uuid: UUID) -> str:
        access_request = request_selectors.request_for(user=request.user, uuid=uuid)
        return f"{verb} {access_request.code} on {access_request.account.name}"

    return describe


def _confirming_decision(request: AuthenticatedHttpRequest, uuid: UUID) -> str:
    verb = "Deny" if request.POST.get("decision") == Decision.DENY else "Approve"
    return _confirming(verb)(request, uuid)


# --- Request ---------------------------------------------------------------------------------


@portal_user_required
def request_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    initial: dict[str, Any] = {}
    # "Request root" links from an account page preselect that account.
    wanted = _uuid_or_none(request.GET.get("account", ""))
    if wanted is not None:
        initial["account"] = request_selectors.requestable_accounts(user=user).filter(uuid=wanted).first()
    form = request_forms.AccessRequestForm(request.POST or None, user=user, initial=initial)
    duplicate: AccessRequest | None = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        emergency = data.pop("emergency", False)
        reason = data.pop("emergency_reason", "")
        # Self-authorising starts a session: it needs the same fresh proof of identity as a
        # check-out. allauth keeps this POST (no secret in it) and replays it afterwards.
        if emergency and not recently_stepped_up(request):
            remember_step_up_purpose(
                request, f"Self-authorise an emergency session on {data['account'].name}"
            )
            raise ReauthenticationRequired()
        try:
            if emergency:
                created = lifecycle.access_request_create_emergency(requester=user, reason=reason, **data)
            else:
                created = lifecycle.access_request_create(requester=user, **data)
        except DomainError as error:
            add_domain_error(form, error, rename={"reason": "emergency_reason"})
            # The refusal names the open request; the page links to it (rules.open_duplicate).
            duplicate = rules.open_duplicate(user, data["account"])
        else:
            if emergency:
                messages.warning(
                    request,
                    f"{created.code} is active as an emergency session. Everyone has been told; "
                    "approvals are collected afterwards.",
                )
            else:
                messages.success(request, f"{created.code} is waiting for approval.")
            return redirect("breakglass:request_detail", uuid=created.uuid)
    return render(
        request,
        "breakglass/request_form.html",
        {"form": form, "steered": request_forms.steered_tasks(), "duplicate": duplicate},
    )


def _uuid_or_none(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


# --- The request page ------------------------------------------------------------------------


@dataclass(frozen=True)
class Actions:
    """What this person may try on this request, for the buttons the page shows."""

    decide: bool
    cancel: bool
    self_authorise: bool
    acknowledge: bool
    check_out: bool
    hand_over: bool
    run_task: bool
    reveal: bool
    check_in: bool
    confirm_rotation: bool
    confirm_device_return: bool
    revoke: bool

    @property
    def any(self) -> bool:
        return any(vars(self).values())


def _actions(user: User, access_request: AccessRequest) -> Actions:
    r = access_request
    return Actions(
        decide=rules.refusal_to_decide(user, r) is None,
        cancel=rules.refusal_to_cancel(user, r) is None,
        self_authorise=rules.refusal_to_self_authorise(user, r) is None,
        acknowledge=rules.refusal_to_acknowledge(user, r) is None,
        check_out=rules.refusal_to_check_out(user, r) is None,
        hand_over=rules.refusal_to_hand_over(user, r) is None,
        run_task=rules.refusal_to_run_task(user, r) is None,
        reveal=rules.refusal_to_reveal(user, r) is None,
        check_in=rules.refusal_to_check_in(user, r) is None,
        confirm_rotation=rules.refusal_to_confirm_rotation(user, r) is None,
        confirm_device_return=rules.refusal_to_confirm_device_return(user, r) is None
        and any(back.confirmed_at is None for back in r.device_returns.all()),
        revoke=rules.refusal_to_revoke(user, r) is None,
    )


def _storage(access_request: AccessRequest) -> str | None:
    """Where the password the session uses is kept; None for an AssumeRoot task, which uses none."""
    if access_request.is_assume_root:
        return None
    credential = access_request.account.root_credential_or_none
    return credential.storage if credential is not None else None


def _render_detail(
    request: AuthenticatedHttpRequest, access_request: AccessRequest, *, status: int = 200, **bound: Any
) -> HttpResponse:
    """The request page; ``bound`` replaces a blank form with one that failed, to show its errors."""
    user = request.user
    actions = _actions(user, access_request)
    storage = _storage(access_request)
    forms: dict[str, Any] = {
        "decision_form": request_forms.DecisionForm() if actions.decide else None,
        "self_authorise_form": request_forms.SelfAuthoriseForm() if actions.self_authorise else None,
        "acknowledge_form": request_forms.AcknowledgeForm() if actions.acknowledge else None,
        "hand_over_form": (
            request_forms.HandOverForm(devices=request_selectors.devices_to_hand_over(request=access_request))
            if actions.hand_over
            else None
        ),
        "check_in_form": request_forms.CheckInForm(storage=storage) if actions.check_in else None,
        "revoke_form": request_forms.RevokeForm() if actions.revoke else None,
    }
    forms.update(bound)
    account = access_request.account
    return render(
        request,
        "breakglass/request_detail.html",
        {
            "r": access_request,
            "account": account,
            "task": ROOT_TASKS.get(access_request.root_task),
            "credential": account.root_credential_or_none,
            "approvals": request_selectors.approvals_of(access_request),
            "timeline": request_selectors.request_timeline(access_request),
            "next_step": next_step.next_step(access_request, now=timezone.now()),
            "devices_coming_back": [
                back for back in access_request.device_returns.all() if back.confirmed_at is None
            ],
            "actions": actions,
            # Decisions on an emergency session are the approvals it collects afterwards.
            "approving_afterwards": rules.collecting_approvals_afterwards(access_request),
            # A form that failed is shown even when the person may no longer act (to say why).
            "show_actions": actions.any or any(form is not None for form in forms.values()),
            "is_holder": access_request.requester_id == user.pk,
            # Named on the page so the holder knows who brings the device (check-out, hand-over).
            "custodians": request_selectors.custodians_to_hand_over(request=access_request),
            "emergency_reason": request_selectors.emergency_reason(access_request),
            # The red self-authorise panel stays folded until the requester asks for the emergency
            # path (or a failed attempt is shown again).
            "emergency_asked": "self_authorise_form" in bound,
            "now": timezone.now(),
            "reveal_seconds": settings.PORTAL_REVEAL_SECONDS,
            "ack_minutes": settings.PORTAL_EMERGENCY_ACK_MINUTES,
            **forms,
        },
        status=status,
    )


@portal_user_required
def request_detail(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    return _render_detail(request, access_request)


def _done(request: AuthenticatedHttpRequest, access_request: AccessRequest, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("breakglass:request_detail", uuid=access_request.uuid)


def _refused(
    request: AuthenticatedHttpRequest, access_request: AccessRequest, error: DomainError
) -> HttpResponse:
    messages.error(request, " ".join(error.messages))
    return redirect("breakglass:request_detail", uuid=access_request.uuid)


@require_POST
@portal_user_required
@step_up_purpose(_confirming_decision)
@step_up_required
def request_decide(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    form = request_forms.DecisionForm(request.POST)
    if form.is_valid():
        try:
            lifecycle.access_request_decide(
                request=access_request,
                approver=request.user,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            verb = "approved" if form.cleaned_data["decision"] == Decision.APPROVE else "denied"
            return _done(request, access_request, f"You {verb} {access_request.code}.")
    # Nothing changed (the form was invalid or the service refused and rolled back).
    return _render_detail(request, access_request, decision_form=form)


@require_POST
@portal_user_required
def request_cancel(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    try:
        lifecycle.access_request_cancel(request=access_request, requester=request.user)
    except DomainError as error:
        return _refused(request, access_request, error)
    return _done(request, access_request, f"{access_request.code} is cancelled.")


@require_POST
@portal_user_required
@step_up_purpose(_confirming("Self-authorise (emergency)"))
@step_up_required
def request_self_authorise(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    form = request_forms.SelfAuthoriseForm(request.POST)
    if form.is_valid():
        try:
            lifecycle.access_request_self_authorise(
                request=access_request, requester=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.warning(
                request,
                f"{access_request.code} is active as an emergency session. Everyone has been told.",
            )
            return redirect("breakglass:request_detail", uuid=access_request.uuid)
    # Nothing changed (the form was invalid or the service refused and rolled back).
    return _render_detail(request, access_request, self_authorise_form=form)


@require_POST
@portal_user_required
@step_up_purpose(_confirming("Acknowledge the emergency"))
@step_up_required
def request_acknowledge(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    """A second person (approver or custodian of the account) acknowledges an emergency session."""
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    form = request_forms.AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            lifecycle.access_request_acknowledge(
                request=access_request, actor=request.user, note=form.cleaned_data["note"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return _done(request, access_request, f"You acknowledged the emergency {access_request.code}.")
    # Nothing changed (the form was invalid or the service refused and rolled back).
    return _render_detail(request, access_request, acknowledge_form=form)


@require_POST
@portal_user_required
@step_up_purpose(_confirming("Check out"))
@step_up_required
def request_check_out(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    try:
        custody.access_request_check_out(request=access_request, requester=request.user)
    except DomainError as error:
        return _refused(request, access_request, error)
    then = (
        "Run its task from this page."
        if access_request.is_assume_root
        else "A custodian hands you the device."
    )
    return _done(request, access_request, f"{access_request.code} is checked out. {then}")


@require_POST
@portal_user_required
@step_up_purpose(_confirming("Hand over MFA devices for"))
@step_up_required
def request_hand_over(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    form = request_forms.HandOverForm(
        request.POST, devices=request_selectors.devices_to_hand_over(request=access_request)
    )
    if form.is_valid():
        devices = list(form.cleaned_data["devices"])
        try:
            custody.access_request_hand_over(request=access_request, custodian=request.user, devices=devices)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            names = ", ".join(device.label for device in devices)
            return _done(
                request, access_request, f"Handed {names} to {access_request.requester.get_username()}."
            )
    # Nothing changed (the form was invalid or the service refused and rolled back).
    return _render_detail(request, access_request, hand_over_form=form)


@require_POST
@never_cache
@portal_user_required
@step_up_purpose(_confirming("Reveal the root password of"))
@step_up_required
def request_reveal(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    """Show the root password once, in the response to this POST only.

    ``never_cache`` sends ``Cache-Control: no-store``: the page must not come back from a cache
    or the back button. The request page itself never contains the password; ``reveal.js`` clears
    it from this page after ``PORTAL_REVEAL_SECONDS``.
    """
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    try:
        password = custody.access_request_reveal_password(request=access_request, user=request.user)
    except DomainError as error:
        return _refused(request, access_request, error)
    return render(
        request,
        "breakglass/request_reveal.html",
        {"r": access_request, "password": password, "reveal_seconds": settings.PORTAL_REVEAL_SECONDS},
    )


@require_POST
@portal_user_required
def request_check_in(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    form = request_forms.CheckInForm(request.POST, storage=_storage(access_request))
    if form.is_valid():
        try:
            custody.access_request_check_in(
                request=access_request,
                actor=request.user,
                work_done=form.cleaned_data["work_done"],
                envelope_number=form.cleaned_data.get("envelope_number", ""),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return _done(
                request,
                access_request,
                f"{access_request.code} is checked in. A custodian "
                + (
                    "reviews the session next."
                    if access_request.is_assume_root
                    else "confirms the password rotation next."
                ),
            )
    # Nothing changed (the form was invalid or the service refused and rolled back).
    return _render_detail(request, access_request, check_in_form=form)


@portal_user_required
@step_up_purpose(_confirming("Confirm the rotation and review of"))
@step_up_keeping("review_note", "new_envelope_number")
def request_confirm_rotation(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    """Its own page, not a form on the request page: the step-up happens before the new password
    is typed, and a form sent after the step-up window is still accepted or keeps its review
    (see :func:`portal.identity.step_up_keeping`)."""
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    storage = _storage(access_request)
    form = request_forms.RotationForm(request.POST or None, storage=storage, initial=form_draft(request))
    if request.method == "POST" and form.is_valid():
        try:
            custody.access_request_confirm_rotation(
                request=access_request,
                actor=request.user,
                review_note=form.cleaned_data["review_note"],
                new_password=form.cleaned_data.get("new_password", ""),
                new_envelope_number=form.cleaned_data.get("new_envelope_number", ""),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return _done(request, access_request, f"Rotation confirmed; {access_request.code} is closed.")
    return render(
        request,
        "breakglass/request_rotation.html",
        {
            "r": access_request,
            "form": form,
            "credential": access_request.account.root_credential_or_none,
            "allowed": rules.refusal_to_confirm_rotation(request.user, access_request) is None,
            "portal_storage": storage == CredentialStorage.PORTAL,
        },
    )


@require_POST
@portal_user_required
@step_up_purpose(_confirming("Revoke"))
@step_up_required
def request_revoke(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    """A destructive action like the inventory's: a fresh second factor, then a confirmation page
    naming the session and what follows (the reason typed is carried on it); refusals (not an
    administrator, no reason) come from the service without the page."""
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    form = request_forms.RevokeForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        allowed = rules.refusal_to_revoke(request.user, access_request) is None
        if allowed and reason.strip() and not confirmed(request):
            return confirmation_page(
                request,
                Confirmation(
                    title=f"Revoke {access_request.code} on {access_request.account.name}?",
                    facts=[
                        ("Request", f"{access_request.code}: {access_request.task_title}"),
                        ("Holder", person_label(access_request.requester)),
                        ("Status", access_request.get_status_display()),
                        ("Reason", reason),
                    ],
                    consequence=(
                        "The session ends now and cannot be resumed; everyone on the account is told. "
                        "A checked-out session's devices must come back and its root password must be "
                        "rotated."
                    ),
                    button="Revoke the request",
                    cancel_url=reverse("breakglass:request_detail", kwargs={"uuid": access_request.uuid}),
                    hidden={"reason": reason},
                ),
            )
        try:
            lifecycle.access_request_revoke(
                request=access_request, administrator=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return _done(
                request, access_request, f"{access_request.code} is revoked; everyone has been told."
            )
    # Nothing changed (the form was invalid or the service refused and rolled back).
    return _render_detail(request, access_request, revoke_form=form)


@require_POST
@portal_user_required
@step_up_required
def request_confirm_device_return(
    request: AuthenticatedHttpRequest, uuid: UUID, device_uuid: UUID
) -> HttpResponse:
    """A custodian confirms one MFA device given back at check-in is in the safe again."""
    access_request = request_selectors.request_for(user=request.user, uuid=uuid)
    back = next((b for b in access_request.device_returns.all() if b.device.uuid == device_uuid), None)
    if back is None:
        return _refused(
            request, access_request, DomainError("That device did not come back from this session.")
        )
    try:
        custody.device_return_confirm(request=access_request, custodian=request.user, device=back.device)
    except DomainError as error:
        return _refused(request, access_request, error)
    return _done(request, access_request, f"{back.device.label} is back in the safe.")
