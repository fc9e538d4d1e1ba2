"""The posture pages: the organization's controls with their scores, one account's checks, a check
now, and the contacts fix. Each view: a policy decorator, a selector, a form, at most one service."""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from audits.posture import contacts, selectors
from audits.posture.forms import ContactsForm, PostureFilterForm
from audits.posture.tasks import queue_check
from breakglass.choices import Environment
from portal import policy
from portal.decorators import AuthenticatedHttpRequest, allowed_if
from portal.forms import add_domain_error
from portal.identity import step_up_required


@allowed_if(policy.may_view_organization_posture)
def organization_posture(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PostureFilterForm(request.GET or None)
    filters = form.filters()
    scores = selectors.organization_scores(user=request.user, filters=filters)
    return render(
        request,
        "audits/posture/organization.html",
        {
            "form": form,
            "scores": scores,
            "filtered": any((filters.environment, filters.control, filters.state)),
            "environment": filters.environment,
            "may_fix": policy.may_set_alternate_contacts(request.user),
            "may_audit": policy.may_run_root_audit(request.user),
            "root_audit": selectors.latest_root_audit(),
        },
    )


@allowed_if(policy.may_view_posture)
def account_posture(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    account = selectors.account_posture_for(user=request.user, uuid=uuid)
    results = selectors.account_results(account=account)
    return render(
        request,
        "audits/posture/account.html",
        {
            "account": account,
            "results": results,
            "last_checked": selectors.last_checked(results),
            "findings": selectors.account_posture_findings(account=account),
            "may_fix": policy.may_set_alternate_contacts(request.user),
            "missing_contacts": any(
                result.check_name.startswith("alternate_contact_") and result.status == "fail"
                for result in results
            ),
        },
    )


@require_POST
@allowed_if(policy.may_set_alternate_contacts)
def account_posture_check(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    account = selectors.account_posture_for(user=request.user, uuid=uuid)
    queue_check([account.account_id])
    messages.success(request, f"A posture check of {account} is under way; reload this page in a minute.")
    return redirect("audits:account_posture", uuid=account.uuid)


@allowed_if(policy.may_set_alternate_contacts)
@step_up_required
def contacts_fix(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set missing alternate contacts on one account (``?account=<uuid>``), on every account of an
    environment (``?environment=production``) or of an OU and those under it (``?ou=Root/Workloads``)."""
    account_uuid = _uuid(request.GET.get("account", ""))
    environment = request.GET.get("environment", "")
    ou = request.GET.get("ou", "")[:1000]
    if environment and environment not in Environment.values:
        raise Http404("No such environment.")
    accounts = selectors.accounts_for_contacts(
        user=request.user, environment=environment, uuid=account_uuid, ou=ou
    )
    if not accounts:
        raise Http404("No account to set contacts on.")
    form = ContactsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            results = contacts.alternate_contacts_set(
                actor=request.user,
                accounts=accounts,
                contact_types=form.cleaned_data["contact_types"],
                contact=form.contact(),
            )
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            _say(request, results)
            if account_uuid is not None:
                return redirect("audits:account_posture", uuid=account_uuid)
            return redirect(
                f"{reverse('audits:organization_posture')}?{urlencode({'environment': environment})}"
            )
    if account_uuid is not None:
        scope = str(accounts[0])
    elif environment:
        scope = f"every {Environment(environment).label.lower()} account"
    else:
        scope = f"every account in {ou} and the OUs under it"
    return render(
        request, "audits/posture/contacts_form.html", {"form": form, "accounts": accounts, "scope": scope}
    )


def _uuid(text: str) -> UUID | None:
    if not text:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise Http404("No such account.") from None


def _say(request: AuthenticatedHttpRequest, results: list[contacts.ContactsFixed]) -> None:
    changed = [result for result in results if result.set]
    if changed:
        messages.success(
            request,
            f"Set {sum(len(result.set) for result in changed)} contact(s) on {len(changed)} account(s). "
            "Their posture is being checked again; the findings resolve when AWS confirms.",
        )
    already = sum(len(result.already) for result in results)
    if already:
        messages.info(request, f"{already} contact(s) were already set and were left as they were.")
    for result in results:
        for problem in result.errors:
            messages.error(request, f"{result.name} ({result.account_id}): {problem}")
