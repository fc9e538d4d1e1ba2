"""Permission-aware reads of break-glass requests: lists, the request page, the custody board.

List pages and detail pages share these, so what a person sees in a list is exactly what they may
open. Every selector fetches what its page shows up front: the number of queries does not grow
with the number of requests, approvals, devices or timeline events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from breakglass import next_step, rules, selectors
from breakglass.choices import CredentialStorage, CustodyState, Decision, RequestStatus
from breakglass.models import (
    AccessRequest,
    Approval,
    AwsAccount,
    DeviceReturn,
    MfaDevice,
    MfaDeviceAssignment,
    Notification,
    RootCredential,
    RootTaskRun,
    SecretReveal,
    Transition,
)
from breakglass.people_models import with_profile
from portal import policy
from portal.people import NOBODY, person_label

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

S = RequestStatus


def _for_lists(requests: QuerySet[AccessRequest]) -> QuerySet[AccessRequest]:
    """What every request list shows: account, requester and how many approvals are in.

    The count is a subquery per row, not a join and GROUP BY: grouping made PostgreSQL aggregate
    and sort every request of the list before it could take one page (keyset pages read an index in
    order and stop after the page)."""
    approvals = (
        Approval.objects.filter(request=OuterRef("pk"), decision=Decision.APPROVE)
        .order_by()
        .values("request")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return requests.select_related("account", "requester").annotate(
        approval_count=Coalesce(Subquery(approvals, output_field=IntegerField()), 0)
    )


def visible_requests(*, user: AnyUser) -> QuerySet[AccessRequest]:
    """Every request the person may open, newest first."""
    # A subquery, because the OR over approvers and custodians joins many-to-many tables and
    # would otherwise repeat a request once per matching row.
    ids = AccessRequest.objects.filter(rules.visible_requests_q(user)).values("pk")
    return _for_lists(AccessRequest.objects.filter(pk__in=ids)).order_by("-created_at")


def request_search_q(text: str) -> Q:
    """What a search for requests matches: the code (``BG-…``), the account's name or id, the ticket."""
    return (
        Q(code__icontains=text)
        | Q(ticket_reference__icontains=text)
        | selectors.account_search_q(text, prefix="account__")
    )


def requests_of(*, user: AnyUser, search: str = "", status: str = "") -> QuerySet[AccessRequest]:
    """The person's own requests, newest first."""
    if not policy.may_use_portal(user):
        return AccessRequest.objects.none()
    mine = AccessRequest.objects.filter(requester_id=user.pk)
    if search:
        mine = mine.filter(request_search_q(search))
    if status:
        mine = mine.filter(status=status)
    return _for_lists(mine).order_by("-created_at", "-id")


def requests_awaiting_decision(*, user: AnyUser, search: str = "") -> QuerySet[AccessRequest]:
    """Requests this approver still has to decide: pending ones of the accounts they approve for
    (never their own, never one they decided), and emergency sessions still collecting approvals
    afterwards (the queryset form of :func:`breakglass.rules.refusal_to_decide`). Oldest first: the
    longest wait comes first."""
    if not policy.may_use_portal(user):
        return AccessRequest.objects.none()
    waiting = AccessRequest.objects.filter(rules.awaiting_decision_q(user))
    if search:
        waiting = waiting.filter(request_search_q(search))
    return _for_lists(waiting).order_by("created_at", "id")


def requests_decided_by(*, user: AnyUser, search: str = "") -> QuerySet[AccessRequest]:
    """Requests this person approved or denied, newest first: what an approver looks back on."""
    if not policy.may_use_portal(user):
        return AccessRequest.objects.none()
    decided = AccessRequest.objects.filter(
        pk__in=Approval.objects.filter(approver_id=user.pk).values("request")
    )
    if search:
        decided = decided.filter(request_search_q(search))
    return _for_lists(decided).order_by("-created_at", "-id")


def active_sessions(*, user: AnyUser, search: str = "") -> QuerySet[AccessRequest]:
    """Checked-out sessions, soonest due first: everyone sees their own, custodians those of the
    accounts they keep, administrators and auditors all."""
    if not policy.may_use_portal(user):
        return AccessRequest.objects.none()
    active = AccessRequest.objects.filter(status=S.ACTIVE)
    if not policy.sees_every_account(user):
        active = active.filter(
            pk__in=active.filter(Q(requester_id=user.pk) | Q(account__custodians=user.pk)).values("pk")
        )
    if search:
        active = active.filter(request_search_q(search))
    return _for_lists(active).prefetch_related("devices").order_by("due_at", "id")


def request_for(*, user: AnyUser, uuid: UUID) -> AccessRequest:
    """One request with everything its page shows, or 404 when the person may not see it
    (whether it exists is not disclosed)."""
    visible = AccessRequest.objects.filter(rules.visible_requests_q(user)).values("pk")
    found = (
        AccessRequest.objects.filter(pk__in=visible, uuid=uuid)
        .select_related(
            "account",
            "account__root_credential",
            "requester",
            "requester__profile",
            "handed_over_by",
            "checked_in_by",
            "rotation_confirmed_by",
        )
        .prefetch_related(
            Prefetch("account__approvers", queryset=with_profile()),
            Prefetch("account__custodians", queryset=with_profile()),
            Prefetch("approvals", queryset=Approval.objects.select_related("approver")),
            Prefetch("transitions", queryset=Transition.objects.select_related("actor")),
            Prefetch("reveals", queryset=SecretReveal.objects.select_related("user")),
            Prefetch("notifications", queryset=Notification.objects.select_related("recipient", "channel")),
            Prefetch("devices", queryset=MfaDevice.objects.select_related("holder").order_by("label")),
            Prefetch(
                "device_returns",
                queryset=DeviceReturn.objects.select_related("device", "returned_by", "confirmed_by"),
            ),
            Prefetch("task_runs", queryset=RootTaskRun.objects.select_related("run_by")),
        )
        .first()
    )
    if found is None:
        raise Http404("No such request.")
    return found


def approvals_of(request: AccessRequest) -> int:
    """Approving decisions so far (from the prefetched approvals)."""
    return sum(1 for approval in request.approvals.all() if approval.decision == Decision.APPROVE)


# --- For the forms ---------------------------------------------------------------------------


def requestable_accounts(*, user: AnyUser) -> QuerySet[AwsAccount]:
    """Accounts the person holds a live (unrevoked, unexpired) grant for."""
    if not policy.may_use_portal(user):
        return AwsAccount.objects.none()
    ids = AwsAccount.objects.filter(rules.requestable_accounts_q(user)).values("pk")
    return AwsAccount.objects.filter(pk__in=ids).order_by("name")


def emergency_accounts(*, user: AnyUser) -> QuerySet[AwsAccount]:
    """Accounts the person may self-authorise for (a live emergency grant)."""
    if not policy.may_use_portal(user):
        return AwsAccount.objects.none()
    ids = AwsAccount.objects.filter(rules.emergency_accounts_q(user)).values("pk")
    return AwsAccount.objects.filter(pk__in=ids).order_by("name")


def devices_to_hand_over(*, request: AccessRequest) -> QuerySet[MfaDevice]:
    """The account's MFA devices that are in the safe, ready to be handed to the holder."""
    return MfaDevice.objects.filter(
        assignments__account_id=request.account_id, custody_state=CustodyState.IN_SAFE
    ).order_by("label")


def custodians_to_hand_over(*, request: AccessRequest) -> list[AnyUser]:
    """Who can hand the holder the account's MFA devices, for the page to name them: the account's
    custodians, never the holder, and (when the account separates duties) nobody who approved it.
    The same conditions as ``rules.refusal_to_hand_over`` without the status, so the page can name
    them before the check-out."""
    candidates = sorted(next_step.hand_over_candidates(request), key=lambda person: person.get_username())
    return [person for person in candidates if policy.may_use_portal(person)]


def emergency_reason(request: AccessRequest) -> str:
    """Why the requester broke the glass: the note of the transition that made it an emergency
    session (empty for an ordinary request)."""
    if not request.emergency:
        return ""
    transition = request.transitions.filter(to_status=S.ACTIVE).order_by("created_at", "id").first()
    return transition.note if transition is not None else ""


# --- Custody board ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CustodyBoard:
    """Where every MFA device and root password of the accounts a person keeps is right now.

    Each device carries ``kept_assignments`` (the accounts on this board it protects) and
    ``active_sessions`` (the check-out holding it, if any); each credential's account carries
    ``awaiting_rotation`` (returned sessions waiting for the rotation to be confirmed).
    """

    devices: QuerySet[MfaDevice]
    credentials: QuerySet[RootCredential]


def custody_board(*, user: AnyUser, search: str = "") -> CustodyBoard:
    """Custodians see the accounts they keep; administrators and auditors see every account.

    Both parts are querysets in the order the page pages them (keyset): devices by custody state
    and label, passwords with a rotation due first. ``search`` narrows the accounts on the board (by
    name or id) and, for devices, also matches a label or serial."""
    if not policy.may_view_devices(user):
        return CustodyBoard(devices=MfaDevice.objects.none(), credentials=RootCredential.objects.none())
    accounts = AwsAccount.objects.all()
    if not policy.sees_every_account(user):
        accounts = accounts.filter(custodians=user.pk)
    account_ids = accounts.values("pk")
    devices = MfaDevice.objects.filter(
        pk__in=MfaDevice.objects.filter(assignments__account__in=account_ids).values("pk")
    )
    credentials = RootCredential.objects.filter(account__in=account_ids)
    if search:
        kept_matching = MfaDeviceAssignment.objects.filter(
            selectors.account_search_q(search, prefix="account__"), account__in=account_ids
        ).values("device")
        devices = devices.filter(selectors.device_search_q(search, among=accounts) | Q(pk__in=kept_matching))
        credentials = credentials.filter(selectors.account_search_q(search, prefix="account__"))
    devices = (
        devices.select_related("holder")
        .prefetch_related(
            Prefetch(
                "assignments",
                # Only the accounts on this board: a custodian need not learn what else a shared
                # FIDO key protects.
                queryset=MfaDeviceAssignment.objects.filter(account__in=account_ids)
                .select_related("account")
                .order_by("account__name"),
                to_attr="kept_assignments",
            ),
            Prefetch(
                "sessions",
                queryset=AccessRequest.objects.filter(status=S.ACTIVE).select_related("requester", "account"),
                to_attr="active_sessions",
            ),
        )
        .order_by("custody_state", "label", "id")
    )
    credentials = (
        credentials.exclude(storage=CredentialStorage.NONE)
        .select_related("account")
        .prefetch_related(
            Prefetch(
                "account__access_requests",
                queryset=AccessRequest.objects.filter(status=S.RETURNED).order_by("checked_in_at"),
                to_attr="awaiting_rotation",
            )
        )
        .order_by("-rotation_required", "id")
    )
    return CustodyBoard(devices=devices, credentials=credentials)


# --- Timeline --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    """One line of a request's history, whatever it came from."""

    at: datetime
    kind: str  # "transition", "decision", "handover", "reveal", "return", "device_return", "notification"
    who: str
    summary: str
    note: str = ""
    # A value the template turns into a badge: a status, a decision or a delivery status.
    state: str = ""


def request_timeline(request: AccessRequest) -> list[TimelineEvent]:
    """Transitions, decisions (with comments), reveals and notifications, oldest first.

    Built from the prefetched relations of :func:`request_for`, so it costs no queries.
    """
    events: list[TimelineEvent] = []
    for transition in request.transitions.all():
        if not transition.from_status:
            summary = "Requested"
        else:
            to_label = S(transition.to_status).label
            if transition.to_status == S.RETURNED and request.is_assume_root:
                to_label = "Returned, review pending"  # no password to rotate (as AccessRequest.status_label)
            summary = f"{S(transition.from_status).label} → {to_label}"
            # Only self-authorisation goes straight from pending to active; say so.
            if (transition.from_status, transition.to_status) == (S.PENDING, S.ACTIVE):
                summary = f"Self-authorised in an emergency: {summary}"
        events.append(
            TimelineEvent(
                at=transition.created_at,
                kind="transition",
                who=person_label(transition.actor),
                summary=summary,
                note=transition.note,
                state=transition.to_status,
            )
        )
    for approval in request.approvals.all():
        events.append(
            TimelineEvent(
                at=approval.created_at,
                kind="decision",
                who=person_label(approval.approver),
                summary=approval.get_decision_display(),
                note=approval.comment,
                state=approval.decision,
            )
        )
    for reveal in request.reveals.all():
        events.append(
            TimelineEvent(
                at=reveal.created_at,
                kind="reveal",
                who=person_label(reveal.user),
                summary="Revealed the root password",
                note=f"HTTP request {reveal.http_request_id}",
            )
        )
    if request.handed_over_at is not None:
        events.append(
            TimelineEvent(
                at=request.handed_over_at,
                kind="handover",
                who=person_label(request.handed_over_by),
                summary="Handed over the MFA devices",
                note=", ".join(device.label for device in request.devices.all()),
            )
        )
    for device_return in request.device_returns.all():
        if device_return.confirmed_at is not None:
            events.append(
                TimelineEvent(
                    at=device_return.confirmed_at,
                    kind="device_return",
                    who=person_label(device_return.confirmed_by),
                    summary="Confirmed an MFA device back in the safe",
                    note=str(device_return.device),
                    state=CustodyState.IN_SAFE,
                )
            )
    for run in request.task_runs.all():
        events.append(
            TimelineEvent(
                at=run.finished_at or run.started_at,
                kind="task_run",
                who=person_label(run.run_by),
                summary=f"AssumeRoot task {run.get_status_display().lower()}",
                note=run.error or (f"access key {run.access_key_id}" if run.access_key_id else ""),
                state=run.status,
            )
        )
    # A revoked session returns its devices without a status change; it has no transition row.
    if request.status == S.REVOKED and request.checked_in_at is not None:
        events.append(
            TimelineEvent(
                at=request.checked_in_at,
                kind="return",
                who=person_label(request.checked_in_by),
                summary="Returned after revocation",
                note=request.work_done,
            )
        )
    if request.emergency_approved_at is not None:
        events.append(
            TimelineEvent(
                at=request.emergency_approved_at,
                kind="decision",
                who=NOBODY,
                summary="Emergency approvals complete",
                state=Decision.APPROVE,
            )
        )
    for notification in request.notifications.all():
        recipient = (
            person_label(notification.recipient)
            if notification.recipient is not None
            else str(notification.channel or "deleted channel")
        )
        events.append(
            TimelineEvent(
                at=notification.created_at,
                kind="notification",
                who=recipient,
                summary=notification.event,
                note=notification.last_error,
                state=notification.status,
            )
        )
    # Stable sort: events of one transaction keep the order they were added in above
    # (the change first, then the notifications it caused).
    return sorted(events, key=lambda event: event.at)
