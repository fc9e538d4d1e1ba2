"""Reads for the home page's break-glass sections: what waits for this person, by role.

Each selector takes the person and answers with what its section shows, fetched up front: the number
of queries does not grow with the number of requests, approvers, custodians or devices
(``tests/test_home_selectors.py`` counts them at two sizes). The requests carry what
:func:`breakglass.next_step.next_step` reads, so each line can say what happens next and who.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Case, Count, Prefetch, Q, QuerySet, When

from breakglass import rules
from breakglass.choices import CustodyState, RequestStatus
from breakglass.models import AccessRequest, Approval, DeviceReturn, Grant, MfaDevice
from breakglass.people_models import with_profile
from breakglass.root_tasks import ASSUME_ROOT_CODES
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

S = RequestStatus

#: The requester's requests still in motion: waiting, approved, in use, or coming back.
OPEN_FOR_REQUESTER = (S.PENDING, S.APPROVED, S.ACTIVE, S.RETURNED)
#: Lines shown per section; the section links to its full list beyond that.
SHOWN = 20


def _with_next_step(requests: QuerySet[AccessRequest]) -> QuerySet[AccessRequest]:
    """What :func:`breakglass.next_step.next_step` and a list line read, in a fixed number of queries."""
    return requests.select_related("account", "requester", "requester__profile").prefetch_related(
        Prefetch("account__approvers", queryset=with_profile()),
        Prefetch("account__custodians", queryset=with_profile()),
        Prefetch("approvals", queryset=Approval.objects.only("id", "request_id", "approver_id", "decision")),
        Prefetch("device_returns", queryset=DeviceReturn.objects.select_related("device")),
    )


def _kept_accounts_q(user: AnyUser, prefix: str = "") -> Q:
    """The accounts whose custody this person keeps (all of them for nobody: auditors watch, not keep)."""
    return Q(**{f"{prefix}account__custodians": user.pk})


# --- Requester ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequesterHome:
    open_requests: list[AccessRequest]
    emergency_grants: list[Grant]
    may_request: bool


def requester_home(*, user: AnyUser) -> RequesterHome:
    """Her requests still in motion (the active session first, then the newest) and her live
    emergency grants, soonest to expire first."""
    if not policy.may_use_portal(user):
        return RequesterHome(open_requests=[], emergency_grants=[], may_request=False)
    mine = AccessRequest.objects.filter(requester_id=user.pk, status__in=OPEN_FOR_REQUESTER)
    # Revoked sessions whose devices have not come back are still hers to return.
    mine = mine | AccessRequest.objects.filter(
        requester_id=user.pk, status=S.REVOKED, checked_out_at__isnull=False, checked_in_at__isnull=True
    )
    # The session in use first (never cut off by a long list of pending ones), then the newest.
    in_use_first = Case(When(status=S.ACTIVE, then=0), default=1)
    requests = list(_with_next_step(mine).order_by(in_use_first, "-created_at")[:SHOWN])
    grants = list(
        Grant.objects.live()
        .filter(user=user.pk, emergency=True)
        .select_related("account")
        .order_by("expires_at")
    )
    may_request = Grant.objects.live().filter(user=user.pk).exists()
    return RequesterHome(open_requests=requests, emergency_grants=grants, may_request=may_request)


# --- Approver -----------------------------------------------------------------------------------


def approver_home(*, user: AnyUser) -> list[AccessRequest]:
    """What waits for this approver's decision, oldest first (the longest wait at the top)."""
    if not policy.may_use_portal(user) or not policy.has_role(user, policy.Role.APPROVER):
        return []
    ids = AccessRequest.objects.filter(rules.awaiting_decision_q(user)).values("pk")
    return list(_with_next_step(AccessRequest.objects.filter(pk__in=ids)).order_by("created_at")[:SHOWN])


# --- Custodian ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustodianHome:
    hand_overs: list[AccessRequest]
    returns: list[DeviceReturn]
    rotations: list[AccessRequest]
    devices_out: list[MfaDevice]

    @property
    def is_empty(self) -> bool:
        return not (self.hand_overs or self.returns or self.rotations or self.devices_out)


def _hand_overs_q(user: AnyUser) -> Q:
    """Checked-out sessions of kept accounts that have not received their devices, not one's own."""
    # An AssumeRoot session hands over no device: the portal runs its task.
    return (
        Q(status=S.ACTIVE, handed_over_at__isnull=True)
        & ~Q(root_task__in=ASSUME_ROOT_CODES)
        & _kept_accounts_q(user)
        & ~Q(requester_id=user.pk)
    )


def _rotations_q(user: AnyUser) -> Q:
    """Returned sessions of kept accounts waiting for the rotation, not one's own."""
    return Q(status=S.RETURNED) & _kept_accounts_q(user) & ~Q(requester_id=user.pk)


def custodian_home(*, user: AnyUser) -> CustodianHome:
    """Hand-overs and returns waiting, rotations due, devices out: the accounts this person keeps."""
    if not policy.may_use_portal(user) or not policy.has_role(user, policy.Role.CUSTODIAN):
        return CustodianHome(hand_overs=[], returns=[], rotations=[], devices_out=[])
    hand_over_ids = AccessRequest.objects.filter(_hand_overs_q(user)).values("pk")
    rotation_ids = AccessRequest.objects.filter(_rotations_q(user)).values("pk")
    return_ids = DeviceReturn.objects.filter(rules.device_returns_to_confirm_q(user)).values("pk")
    out_ids = MfaDevice.objects.filter(
        custody_state=CustodyState.CHECKED_OUT, assignments__account__custodians=user.pk
    ).values("pk")
    return CustodianHome(
        hand_overs=list(
            _with_next_step(AccessRequest.objects.filter(pk__in=hand_over_ids)).order_by("checked_out_at")[
                :SHOWN
            ]
        ),
        returns=list(
            DeviceReturn.objects.filter(pk__in=return_ids)
            .select_related("device", "request__account", "returned_by")
            .order_by("returned_at")[:SHOWN]
        ),
        rotations=list(
            AccessRequest.objects.filter(pk__in=rotation_ids)
            .select_related("account", "requester")
            .order_by("checked_in_at")[:SHOWN]
        ),
        devices_out=list(
            MfaDevice.objects.filter(pk__in=out_ids)
            .select_related("holder")
            .prefetch_related(
                Prefetch(
                    "sessions",
                    queryset=AccessRequest.objects.filter(
                        status__in=(S.ACTIVE, S.REVOKED), checked_in_at__isnull=True
                    ).select_related("account"),
                    to_attr="open_sessions",
                )
            )
            .order_by("label")[:SHOWN]
        ),
    )


# --- Navigation counts --------------------------------------------------------------------------


@dataclass(frozen=True)
class NavCounts:
    approvals: int = 0
    custody: int = 0


def nav_counts(*, user: AnyUser) -> NavCounts:
    """How many things wait for this person, for the navigation (*Approvals 2*, *Custody 3*): at most
    three queries whatever the data, only for the roles that have the link."""
    if not policy.may_use_portal(user):
        return NavCounts()
    approvals = 0
    if policy.has_role(user, policy.Role.APPROVER):
        approvals = AccessRequest.objects.filter(
            pk__in=AccessRequest.objects.filter(rules.awaiting_decision_q(user)).values("pk")
        ).count()
    custody = 0
    if policy.has_role(user, policy.Role.CUSTODIAN):
        waiting = AccessRequest.objects.filter(
            pk__in=AccessRequest.objects.filter(_hand_overs_q(user) | _rotations_q(user)).values("pk")
        ).aggregate(n=Count("pk"))
        returns = DeviceReturn.objects.filter(
            pk__in=DeviceReturn.objects.filter(rules.device_returns_to_confirm_q(user)).values("pk")
        ).count()
        custody = waiting["n"] + returns
    return NavCounts(approvals=approvals, custody=custody)
