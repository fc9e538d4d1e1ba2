"""People pages: who holds each role (administrators add and remove members, with step-up, and
removal with a confirmation page), one person's access and phone number, and everyone's own
profile page (their phone number)."""

from __future__ import annotations

from allauth.core.exceptions import ReauthenticationRequired
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from breakglass import membership, people_selectors
from breakglass.people_forms import PhoneForm, RoleMemberForm
from breakglass.people_models import phone_of
from portal import policy
from portal.confirm import Confirmation, confirmation_page, confirmed
from portal.decorators import AuthenticatedHttpRequest, allowed_if, portal_user_required
from portal.forms import add_domain_error
from portal.identity import recently_stepped_up, remember_step_up_purpose, step_up_purpose, step_up_required
from portal.people import person_label
from portal.policy import Role

#: What each role lets its members do, said on the page next to the members.
ROLE_DUTIES = {
    Role.REQUESTER: "Ask for an account's root user, within their grants.",
    Role.APPROVER: "Decide requests of the accounts that name them as approver.",
    Role.CUSTODIAN: "Hand over and take back MFA devices; confirm rotations of the accounts they keep.",
    Role.AUDITOR: "Read everything: findings, ledger, reports; triage findings.",
    Role.ADMINISTRATOR: "Manage accounts, grants, devices, sources, channels and people.",
}


def _person_url(person: object) -> str:
    return reverse("people:person_detail", kwargs={"username": person.get_username()})  # type: ignore[attr-defined]


@allowed_if(policy.may_view_people)
def people_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    roles = people_selectors.role_members(user=request.user)
    return render(
        request,
        "breakglass/people/index.html",
        {
            "roles": [
                (group, ROLE_DUTIES[group.role], RoleMemberForm(initial={"role": group.role.value}))
                for group in roles
            ],
            "can_manage": policy.may_manage_people(request.user),
            "sso_decides": bool(getattr(settings, "PORTAL_SSO_GROUP_ROLES", {})),
        },
    )


@require_POST
@allowed_if(policy.may_manage_people)
@step_up_purpose(lambda request: "Add a person to a role")
@step_up_required
def role_member_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = RoleMemberForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("username", []) or ["Choose a person and a role."]:
            messages.error(request, str(error))
        return redirect("people:people_index")
    person, role = form.cleaned_data["username"], form.chosen_role()
    if membership.role_member_add(actor=request.user, person=person, role=role):
        messages.success(request, f"{person_label(person)} is now {role.value.lower()}.")
    else:
        messages.info(request, f"{person_label(person)} was already {role.value.lower()}.")
    return redirect("people:people_index")


def _removing(request: AuthenticatedHttpRequest, username: str, role: str) -> str:
    """What the step-up page names: only a person who exists and a role that exists (404 otherwise),
    never words taken from a crafted link."""
    person = people_selectors.person_for(user=request.user, username=username)
    if role not in {held.value for held in Role}:
        raise Http404("No such role.")
    return f"Remove {person.get_username()} from the role {role}"


@allowed_if(policy.may_manage_people)
@step_up_purpose(_removing)
@step_up_required
def role_member_remove(request: AuthenticatedHttpRequest, username: str, role: str) -> HttpResponse:
    person = people_selectors.person_for(user=request.user, username=username)
    try:
        held = Role(role)
    except ValueError:
        messages.error(request, "No such role.")
        return redirect("people:people_index")
    back = reverse("people:people_index")
    policy.forget_roles(person)
    if held not in policy.roles(person):
        messages.info(request, f"{person_label(person)} is not {held.value.lower()}.")
        return redirect(back)
    refusal = membership.refusal_to_remove_role(person=person, role=held)
    if refusal is not None:
        messages.error(request, refusal)
        return redirect(back)
    if not confirmed(request):
        access = people_selectors.person_access(person=person)
        facts = [
            ("Person", person_label(person)),
            ("Role", held.value),
            ("Other roles", ", ".join(r.value for r in access.roles if r != held) or "none"),
        ]
        if held == Role.APPROVER and access.approver_of:
            facts.append(("Approver of", ", ".join(account.name for account in access.approver_of)))
        if held == Role.CUSTODIAN and access.custodian_of:
            facts.append(("Custodian of", ", ".join(account.name for account in access.custodian_of)))
        yourself = (
            " You are removing yourself: the pages of this role close for you at once."
            if person.pk == request.user.pk
            else ""
        )
        return confirmation_page(
            request,
            Confirmation(
                title=f"Remove {person_label(person)} from the {held.value.lower()}s?",
                facts=facts,
                consequence=(
                    f"{person_label(person)} can no longer "
                    f"{ROLE_DUTIES[held][0].lower()}{ROLE_DUTIES[held][1:]} "
                    "Accounts that name them stay as they are until an administrator edits them." + yourself
                ),
                button="Remove from the role",
                cancel_url=back,
            ),
        )
    try:
        membership.role_member_remove(actor=request.user, person=person, role=held)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    messages.success(request, f"{person_label(person)} is no longer {held.value.lower()}.")
    policy.forget_roles(request.user)  # they may have removed themself
    if not policy.may_view_people(request.user):
        return redirect("home")
    return redirect(back)


@allowed_if(policy.may_view_people)
def person_detail(request: AuthenticatedHttpRequest, username: str) -> HttpResponse:
    person = people_selectors.person_for(user=request.user, username=username)
    can_manage = policy.may_manage_people(request.user)
    form = PhoneForm(request.POST if request.method == "POST" else None, initial={"phone": phone_of(person)})
    if request.method == "POST":
        if not can_manage:
            return redirect(_person_url(person))
        if not recently_stepped_up(request):
            remember_step_up_purpose(request, f"Change the phone number of {person.get_username()}")
            raise ReauthenticationRequired()
        if form.is_valid():
            try:
                membership.person_phone_set(
                    actor=request.user, person=person, phone=form.cleaned_data["phone"]
                )
            except ValidationError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Saved the phone number of {person_label(person)}.")
                return redirect(_person_url(person))
    return render(
        request,
        "breakglass/people/person.html",
        {
            "person": person,
            "access": people_selectors.person_access(person=person),
            "form": form if can_manage else None,
            "phone": phone_of(person),
            "can_manage": can_manage,
            "roles": list(Role),
        },
    )


@portal_user_required
def my_profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A person's own profile: the phone number others see where the next step waits for them.
    Changing it asks for a fresh second factor (a thief redirecting the 3 a.m. call must not)."""
    person = request.user
    form = PhoneForm(request.POST if request.method == "POST" else None, initial={"phone": phone_of(person)})
    if request.method == "POST":
        if not recently_stepped_up(request):
            remember_step_up_purpose(request, "Change your phone number")
            raise ReauthenticationRequired()
        if form.is_valid():
            try:
                membership.person_phone_set(actor=person, person=person, phone=form.cleaned_data["phone"])
            except ValidationError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, "Saved your phone number.")
                return redirect("people:my_profile")
    policy.forget_roles(person)
    return render(
        request,
        "breakglass/people/profile.html",
        {
            "form": form,
            "roles": sorted(policy.roles(person), key=list(Role).index),
            "phone": phone_of(person),
        },
    )
