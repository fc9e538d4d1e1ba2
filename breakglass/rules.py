"""Who may do what with an access request: one function per action, the one home of each rule.

Each ``refusal_to_<action>(user, request)`` returns why the person may not do it, or ``None`` when
they may. Three callers ask the same function:

- the request page shows a button only when there is no refusal (``request_views._actions``);
- the lifecycle service asks again on the row it has locked and raises ``DomainError`` with the
  text, so a page that was stale when it was drawn never lets an action through;
- the selectors that list "what may I do" filter with the queryset form of the same rule, kept
  beside its predicate here (``*_q`` functions), and ``tests/test_rules.py`` checks they agree.

Conditions that depend on the clock or on rows the service locks (the check-out window, a pending
rotation, which devices are in the safe) stay in the service: they are not about the person.
Role questions that are not about one request (``may_use_portal``, ``may_manage_inventory``) live
in :mod:`portal.policy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from breakglass.choices import (
    CLOSED_ORGANIZATION_STATES,
    CredentialStorage,
    Decision,
    GovernanceMode,
    RequestStatus,
)
from breakglass.models import AccessRequest, Grant, live_grant_q
from breakglass.root_tasks import BY_CODE as ROOT_TASKS
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from breakglass.models import AwsAccount

    AnyUser = AbstractBaseUser | AnonymousUser

S = RequestStatus

#: An emergency session takes its approvals afterwards while it is in one of these states.
COLLECTING_AFTERWARDS_STATUSES = (S.ACTIVE, S.RETURNED, S.CLOSED)
#: The states an administrator may still revoke.
OPEN_STATUSES = frozenset({S.PENDING, S.APPROVED, S.ACTIVE})
#: The states the requester may still cancel.
CANCELLABLE_STATUSES = frozenset({S.PENDING, S.APPROVED})

_NOTHING = Q(pk__in=[])


def wrong_status(request: AccessRequest, consequence: str) -> str:
    """The refusal for an action the request's current status does not allow."""
    return f"{request.code} is {request.get_status_display().lower()}; {consequence}"


def _is_among(user: AnyUser, people: Any) -> bool:
    # Iterates the related manager: the request page has it prefetched (no query per question);
    # on a locked row it is one query for a handful of people.
    return any(person.pk == user.pk for person in people.all())


def _is_holder(user: AnyUser, request: AccessRequest) -> bool:
    return policy.may_use_portal(user) and request.requester_id == user.pk


def is_approver(user: AnyUser, account: AwsAccount) -> bool:
    return policy.may_use_portal(user) and _is_among(user, account.approvers)


def is_custodian(user: AnyUser, account: AwsAccount) -> bool:
    return policy.may_use_portal(user) and _is_among(user, account.custodians)


# --- Seeing requests ---------------------------------------------------------------------------


def visible_requests_q(user: AnyUser) -> Q:
    """A filter on ``AccessRequest`` for the requests a person may see (the queryset form of
    :func:`may_view_request`).

    Administrators and auditors see all; others see their own and those of the accounts they
    approve for or keep custody of. Nobody else sees anything.
    """
    if not policy.may_use_portal(user):
        return _NOTHING
    if policy.sees_every_account(user):
        return Q()
    return Q(requester=user) | Q(account__approvers=user) | Q(account__custodians=user)


def may_view_request(user: AnyUser, request: AccessRequest) -> bool:
    if not policy.may_use_portal(user):
        return False
    if policy.sees_every_account(user) or request.requester_id == user.pk:
        return True
    return _is_among(user, request.account.approvers) or _is_among(user, request.account.custodians)


# --- Filing a request --------------------------------------------------------------------------


def requestable_accounts_q(user: AnyUser) -> Q:
    """A filter on ``AwsAccount``: governed, not closing or closed, and the person holds a live grant
    for it (the queryset form of :func:`refusal_to_request`)."""
    if not policy.may_use_portal(user):
        return _NOTHING
    return (
        Q(governed=True)
        & ~Q(organization_state__in=CLOSED_ORGANIZATION_STATES)
        & Q(grants__user=user.pk)
        & live_grant_q("grants__")
    )


def refusal_to_request(user: AnyUser, account: AwsAccount) -> str | None:
    """Filing a request needs a governed account that is not closing or closed, and a live grant.

    An account the organization import found stays ungoverned until an administrator has named who
    approves and who keeps custody: until then nobody would decide the request or hold the devices.
    """
    if not account.governed:
        return (
            f"{account} is not governed yet: an administrator must set its approvers and custodians "
            "before anyone may request its root."
        )
    if account.organization_state in CLOSED_ORGANIZATION_STATES:
        return f"{account} is {account.get_organization_state_display().lower()} in the organization."
    if (
        not policy.may_use_portal(user)
        or not Grant.objects.live().filter(user=user.pk, account=account).exists()
    ):
        return f"You hold no live grant for {account}; ask an administrator for one."
    return None


def assume_root_reaches(account: AwsAccount) -> bool:
    """Whether ``sts:AssumeRoot`` can reach this account's root: a centralised account, or a member
    account of an organization with root sessions on (AWS allows it whatever the account's mode)."""
    return account.governance_mode == GovernanceMode.CENTRALISED or account.root_sessions_enabled


def refusal_of_assume_root(account: AwsAccount) -> str | None:
    """Why an AssumeRoot task cannot be asked for on ``account``, or None."""
    if assume_root_reaches(account):
        return None
    return (
        f"AssumeRoot cannot reach {account}: its organization does not have root sessions on "
        "(iam:EnableOrganizationsRootSessions), or it is the management account. Choose a task that "
        "uses the root password."
    )


def open_duplicate(user: AnyUser, account: AwsAccount) -> AccessRequest | None:
    """The person's request for this account still waiting for approval, if any: a second one would
    only split the approvers' attention. (An approved one may be followed by the next request.)"""
    return (
        AccessRequest.objects.filter(requester_id=user.pk, account_id=account.pk, status=S.PENDING)
        .order_by("created_at")
        .first()
    )


def refusal_of_duplicate(duplicate: AccessRequest) -> str:
    """Why a new request is refused while ``duplicate`` (from :func:`open_duplicate`) is open."""
    return (
        f"You already have {duplicate.code} for {duplicate.account.name}, "
        f"{duplicate.get_status_display().lower()}; use it, or cancel it first."
    )


# --- Deciding ------------------------------------------------------------------------------------


def collecting_approvals_afterwards(request: AccessRequest) -> bool:
    """An emergency session still collecting the approvals it skipped (they come in afterwards)."""
    return (
        request.emergency
        and request.emergency_approved_at is None
        and request.status in COLLECTING_AFTERWARDS_STATUSES
    )


def _takes_decisions_q() -> Q:
    # The queryset form of "status pending, or collecting approvals afterwards".
    return Q(status=S.PENDING) | Q(
        emergency=True, emergency_approved_at__isnull=True, status__in=COLLECTING_AFTERWARDS_STATUSES
    )


def refusal_to_decide(user: AnyUser, request: AccessRequest) -> str | None:
    """An approver of the account who is not the requester and has not decided yet, while the
    request takes decisions (pending, or an emergency session still collecting approvals)."""
    if request.requester_id == user.pk:
        return "Nobody approves their own request."
    if not is_approver(user, request.account):
        return f"You are not an approver of {request.account}."
    if request.status != S.PENDING and not collecting_approvals_afterwards(request):
        return wrong_status(request, "it takes no more decisions.")
    if any(approval.approver_id == user.pk for approval in request.approvals.all()):
        return "You have already decided on this request."
    return None


def awaiting_decision_q(user: AnyUser) -> Q:
    """A filter on ``AccessRequest``: the requests :func:`refusal_to_decide` lets this person
    decide now. Use it in one ``filter()`` call (the exclusions become subqueries)."""
    if not policy.may_use_portal(user):
        return _NOTHING
    return (
        Q(account__approvers=user.pk)
        & ~Q(requester_id=user.pk)
        & ~Q(approvals__approver=user.pk)
        & _takes_decisions_q()
    )


# --- The requester's own actions ---------------------------------------------------------------


def refusal_to_cancel(user: AnyUser, request: AccessRequest) -> str | None:
    if not _is_holder(user, request):
        return "Only the requester can cancel a request."
    if request.status not in CANCELLABLE_STATUSES:
        return wrong_status(request, "it can no longer be cancelled.")
    return None


def emergency_accounts_q(user: AnyUser) -> Q:
    """A filter on ``AwsAccount``: those the person holds a live emergency grant for (the grant
    half of :func:`refusal_to_self_authorise`)."""
    if not policy.may_use_portal(user):
        return _NOTHING
    return Q(grants__user=user.pk, grants__emergency=True) & live_grant_q("grants__")


def refusal_to_self_authorise(user: AnyUser, request: AccessRequest) -> str | None:
    """Break glass without approvers: the requester, holding a live emergency grant, on a pending
    request."""
    if request.requester_id != user.pk:
        return "Only the requester can self-authorise their request."
    emergency_grant = (
        Grant.objects.live().filter(user=user.pk, account=request.account_id, emergency=True).exists()
    )
    if not policy.may_use_portal(user) or not emergency_grant:
        return "You hold no emergency grant for this account."
    if request.status != S.PENDING:
        return wrong_status(request, "only a pending request can be self-authorised.")
    return None


def refusal_to_acknowledge(user: AnyUser, request: AccessRequest) -> str | None:
    """A second person for a self-authorised emergency: an approver or custodian of the account,
    never the holder, once, while the session has started (it may be acknowledged late)."""
    if not request.emergency or request.checked_out_at is None:
        return "Only an emergency session is acknowledged."
    if request.requester_id == user.pk:
        return "The holder cannot acknowledge their own emergency; an approver or custodian must."
    if not is_approver(user, request.account) and not is_custodian(user, request.account):
        return f"Only an approver or custodian of {request.account} can acknowledge this emergency."
    if request.emergency_acknowledged_at is not None:
        return f"{request.code} was already acknowledged."
    return None


def refusal_of_eligibility(request: AccessRequest) -> str | None:
    """The requester still holds what made the request possible: a live grant for the account,
    and for an emergency session a live emergency grant. Asked again at check-out, hand-over and
    every reveal, because a grant revoked after approval must stop the session's next step. A drill
    rests on its performer being a custodian of the account instead."""
    if request.is_drill:
        # A drill is performed by a custodian the administrator named, not on a grant.
        if not request.account.custodians.filter(pk=request.requester_id).exists():
            return f"The drill's performer is no longer a custodian of {request.account}."
        return None
    live = Grant.objects.live().filter(user=request.requester_id, account=request.account_id)
    if request.emergency:
        if not live.filter(emergency=True).exists():
            return f"The requester no longer holds a live emergency grant for {request.account}."
    elif not live.exists():
        return f"The requester holds no live grant for {request.account} any more."
    return None


def refusal_to_check_out(user: AnyUser, request: AccessRequest) -> str | None:
    """The requester, once approved, still holding a live grant. The window and the rotation are
    the service's to check."""
    if not _is_holder(user, request):
        return "Only the requester can check out their request."
    if request.status != S.APPROVED:
        return wrong_status(request, "only an approved request can be checked out.")
    return refusal_of_eligibility(request)


def refusal_to_reveal(user: AnyUser, request: AccessRequest) -> str | None:
    """Only the holder of an active check-out, for a password kept in the portal, and never for an
    AssumeRoot task (done with short-lived credentials: the password stays sealed)."""
    if not _is_holder(user, request):
        return "Only the holder of the check-out can reveal the password."
    if request.status != S.ACTIVE:
        return wrong_status(request, "the password is shown only during an active check-out.")
    task = ROOT_TASKS.get(request.root_task)
    if task is not None and task.is_assume_root:
        return (
            "This is an AssumeRoot task: it runs with temporary credentials from sts:AssumeRoot, "
            "so no root password is handed out."
        )
    credential = request.account.root_credential_or_none
    if credential is None or credential.storage != CredentialStorage.PORTAL:
        return "This account's root password is not kept in the portal."
    return refusal_of_eligibility(request)


def refusal_to_run_task(user: AnyUser, request: AccessRequest) -> str | None:
    """The holder of an active session for an AssumeRoot task, still eligible, runs it through the
    portal. Whether a run already succeeded or is running, and the window, are the service's to
    check on its rows (a failed run may be retried within the window)."""
    if not request.is_assume_root:
        return "Only an AssumeRoot task is carried out by the portal; this session uses the password."
    if not _is_holder(user, request):
        return "Only the holder of the session can run its task."
    if request.status != S.ACTIVE:
        return wrong_status(request, "the task runs during an active session.")
    return refusal_of_eligibility(request)


# --- Custody -------------------------------------------------------------------------------------


def refusal_to_hand_over(user: AnyUser, request: AccessRequest) -> str | None:
    """A custodian of the account, never the holder, during the active session of a requester still
    eligible; unless the account waives separation of duties, not someone who approved it."""
    if request.status != S.ACTIVE:
        return wrong_status(request, "devices are handed over for an active check-out.")
    if request.is_assume_root:
        return "This is an AssumeRoot task: the portal runs it, so no MFA device leaves the safe."
    if request.requester_id == user.pk:
        return "The holder cannot hand devices to themselves; another custodian must."
    if not is_custodian(user, request.account):
        return f"You are not a custodian of {request.account}."
    if request.account.separate_duties and any(
        approval.approver_id == user.pk and approval.decision == Decision.APPROVE
        for approval in request.approvals.all()
    ):
        return (
            f"You approved {request.code}; {request.account} separates approval from hand-over, "
            "so another custodian hands over the devices."
        )
    return refusal_of_eligibility(request)


def returning_after_revoke(request: AccessRequest) -> bool:
    """A revoked session whose devices and password have not come back yet."""
    return (
        request.status == S.REVOKED and request.checked_out_at is not None and request.checked_in_at is None
    )


def refusal_to_check_in(user: AnyUser, request: AccessRequest) -> str | None:
    """The holder or a custodian, for an active session or a revoked one not yet returned."""
    if not _is_holder(user, request) and not is_custodian(user, request.account):
        return "Only the holder or a custodian of the account can check in."
    if request.status != S.ACTIVE and not returning_after_revoke(request):
        return wrong_status(request, "only an active check-out can be checked in.")
    return None


def refusal_to_confirm_rotation(user: AnyUser, request: AccessRequest) -> str | None:
    """A custodian or administrator who did not hold the session, after check-in."""
    if request.requester_id == user.pk:
        return "The holder cannot review their own session; a custodian or administrator must."
    if not policy.may_manage_inventory(user) and not is_custodian(user, request.account):
        return f"Only a custodian of {request.account} or an administrator can confirm the rotation."
    if request.status != S.RETURNED:
        return wrong_status(request, "rotation is confirmed after check-in.")
    return None


def refusal_to_confirm_device_return(user: AnyUser, request: AccessRequest) -> str | None:
    """A custodian of the account who did not hold the session confirms each device is back in the
    safe, after check-in (whether a device still waits is the service's to check, on its row)."""
    if request.requester_id == user.pk:
        return "The holder cannot confirm their own return; a custodian must."
    if not is_custodian(user, request.account):
        return f"Only a custodian of {request.account} can confirm a device is back in the safe."
    if request.checked_in_at is None:
        return f"{request.code} has not been checked in yet."
    return None


def device_returns_to_confirm_q(user: AnyUser) -> Q:
    """A filter on ``DeviceReturn``: the unconfirmed returns this person may confirm (the queryset
    form of :func:`refusal_to_confirm_device_return`)."""
    if not policy.may_use_portal(user):
        return _NOTHING
    return (
        Q(confirmed_at__isnull=True, request__checked_in_at__isnull=False)
        & Q(request__account__custodians=user.pk)
        & ~Q(request__requester_id=user.pk)
    )


# --- Administration ------------------------------------------------------------------------------


def refusal_to_revoke(user: AnyUser, request: AccessRequest) -> str | None:
    """An administrator ends any open request."""
    if not policy.may_manage_inventory(user):
        return "Only an administrator can revoke a request."
    if request.status not in OPEN_STATUSES:
        return wrong_status(request, "only open requests can be revoked.")
    return None


# --- Drills and reachability ---------------------------------------------------------------------


def refusal_to_schedule_drill(user: AnyUser, account: AwsAccount, performer: AnyUser) -> str | None:
    """An administrator schedules a drill performed by a custodian of the account, never by
    themselves: the scheduling stands in for the approvals, so it must be another person who then
    holds root."""
    if not policy.may_manage_inventory(user):
        return "Only an administrator can schedule a drill."
    if performer.pk == user.pk:
        return "You cannot schedule a drill that you perform yourself; name another custodian."
    if not is_custodian(performer, account):
        return f"The performer must be a custodian of {account} with a role in the portal."
    return None


def refusal_to_confirm_reachability(user: AnyUser, check: Any) -> str | None:
    """Only the approver asked confirms, once."""
    if not policy.may_use_portal(user) or check.approver_id != user.pk:
        return "Only the approver asked can confirm this."
    if check.confirmed_at is not None:
        return "You have already confirmed this."
    return None
