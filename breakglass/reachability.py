"""Approver reachability (issue 9, item 4): every approver confirms periodically, by signing in and
passing a fresh MFA check, that they can still be reached; like the team baseline of AWS Multi-party
approval, so that an emergency does not discover an approver who left or lost their key.

Beat asks (:func:`reachability_ask_due`, every ``PORTAL_REACHABILITY_INTERVAL_DAYS``), the approver
confirms on the reachability page under step-up (:func:`reachability_confirm`), and a check silent
past its deadline lapses (:func:`reachability_lapse_due`) and sends
``breakglass.signals.approver_unreachable``, which the evidence side turns into findings
(``breakglass`` never imports ``audits``). Every step is a ledger entry.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from breakglass import rules
from breakglass.models import AwsAccount, ReachabilityCheck
from breakglass.notifications import outbox
from breakglass.signals import approver_unreachable
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def approvers_to_ask(*, now: datetime) -> list[User]:
    """Active approvers of some account not asked within the interval and with no open check."""
    recent = ReachabilityCheck.objects.filter(approver=OuterRef("pk")).filter(
        Q(asked_at__gt=now - timedelta(days=settings.PORTAL_REACHABILITY_INTERVAL_DAYS))
        | Q(confirmed_at__isnull=True, lapsed_at__isnull=True)
    )
    people = (
        get_user_model()
        .objects.filter(is_active=True, approver_for__isnull=False)
        .exclude(Exists(recent))
        .distinct()
        .order_by("username")
    )
    return [person for person in people if policy.may_use_portal(person)]


def reachability_ask(*, approver: User, now: datetime | None = None) -> ReachabilityCheck:
    """Ask ``approver`` to confirm by the deadline; they get an email with the link."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                check = ReachabilityCheck.objects.create(
                    approver=approver,
                    asked_at=now,
                    deadline=now + timedelta(days=settings.PORTAL_REACHABILITY_DEADLINE_DAYS),
                )
        except IntegrityError:
            raise DomainError(f"{approver.get_username()} has an open reachability check already.") from None
        ledger.record(
            actor=None,
            action="reachability.asked",
            target=check,
            data={"approver": approver.get_username(), "deadline": check.deadline.isoformat()},
        )
        outbox.queue_reachability(check=check)
    return check


def reachability_ask_due(*, now: datetime | None = None) -> int:
    """Ask every approver whose last check is older than the interval; returns how many were asked."""
    now = now or timezone.now()
    asked = 0
    for approver in approvers_to_ask(now=now):
        try:
            reachability_ask(approver=approver, now=now)
        except DomainError:
            continue  # another worker asked a moment ago
        asked += 1
    return asked


def reachability_confirm(*, check: ReachabilityCheck, approver: User) -> ReachabilityCheck:
    """The approver confirms (the view demands a fresh MFA check first). Late is still recorded:
    they are reachable again, though the finding of the lapse stays."""
    with transaction.atomic():
        locked = (
            ReachabilityCheck.objects.select_for_update(of=("self",))
            .select_related("approver")
            .get(pk=check.pk)
        )
        refusal = rules.refusal_to_confirm_reachability(approver, locked)
        if refusal is not None:
            raise DomainError(refusal)
        locked.confirmed_at = timezone.now()
        locked.save(update_fields=["confirmed_at", "updated_at"])
        ledger.record(
            actor=approver,
            action="reachability.confirmed",
            target=locked,
            data={
                "approver": approver.get_username(),
                "asked_at": locked.asked_at.isoformat(),
                "late": locked.lapsed_at is not None,
                "mfa": "fresh",
            },
        )
    return locked


def unreachable_approver_ids() -> set[Any]:
    """People whose latest reachability check lapsed without a confirmation."""
    latest: dict[Any, ReachabilityCheck] = {}
    for check in ReachabilityCheck.objects.order_by("approver_id", "-asked_at"):
        latest.setdefault(check.approver_id, check)
    return {pk for pk, check in latest.items() if check.lapsed_at is not None and check.confirmed_at is None}


def reachable_approvers(account: AwsAccount, *, unreachable: set[Any]) -> int:
    """How many of ``account``'s approvers can be reached: active, with a role, not silent."""
    return sum(
        1
        for person in account.approvers.filter(is_active=True)
        if person.pk not in unreachable and policy.may_use_portal(person)
    )


def reachability_lapse_due(*, now: datetime | None = None) -> int:
    """Mark every open check past its deadline lapsed and send ``approver_unreachable`` with, per
    account the person approves for, how many approvers are left to reach. Returns how many lapsed."""
    now = now or timezone.now()
    lapsed = 0
    due = ReachabilityCheck.objects.filter(
        confirmed_at__isnull=True, lapsed_at__isnull=True, deadline__lte=now
    )
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            check = (
                ReachabilityCheck.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("approver")
                .filter(pk=pk, confirmed_at__isnull=True, lapsed_at__isnull=True)
                .first()
            )
            if check is None:
                continue
            check.lapsed_at = now
            check.save(update_fields=["lapsed_at", "updated_at"])
            unreachable = unreachable_approver_ids() | {check.approver_id}
            accounts = [
                (account, reachable_approvers(account, unreachable=unreachable))
                for account in AwsAccount.objects.filter(approvers=check.approver).order_by("name")
            ]
            ledger.record(
                actor=None,
                action="reachability.lapsed",
                target=check,
                data={
                    "approver": check.approver.get_username(),
                    "deadline": check.deadline.isoformat(),
                    "accounts": {
                        account.account_id: {"reachable": reachable, "quorum": account.approval_quorum}
                        for account, reachable in accounts
                    },
                },
            )
            approver_unreachable.send(sender=ReachabilityCheck, check=check, accounts=accounts)
            lapsed += 1
    return lapsed
