"""What happens next to an access request, and who it waits for: the one home of that sentence.

The home page and the request page both show it, so a requester at 3 a.m. reads the same answer in
both places (*Waiting for 1 more approval from alan.approver or anna.approver.*).

:func:`next_step` reads only what the selectors prefetch (the account's approvers and custodians,
the approvals, the device returns with their devices); it runs no query of its own, so a list of
requests costs the same whatever its length.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from breakglass import rules
from breakglass.choices import Decision, RequestStatus
from breakglass.models import AccessRequest
from breakglass.people_models import phone_of
from portal.people import person_label

S = RequestStatus

#: People named in one sentence; more are counted ("or 3 others").
NAMES_SHOWN = 3


@dataclass(frozen=True)
class NextStep:
    """``sentence`` for people; ``waiting_for`` names who must act (empty when nobody must)."""

    sentence: str
    waiting_for: tuple[str, ...] = ()
    done: bool = False
    #: (name, phone) of the people waited for who have a phone number, for a tel: link beside it.
    contacts: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.sentence


def either(names: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``, ``a, b, c or 2 others``."""
    if not names:
        return ""
    if len(names) > NAMES_SHOWN:
        rest = len(names) - NAMES_SHOWN
        return f"{', '.join(names[:NAMES_SHOWN])} or {rest} other{'s' if rest > 1 else ''}"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _sorted(people: Iterable[Any]) -> list[Any]:
    return sorted(people, key=lambda person: person.get_username())


def _labels(people: Iterable[Any]) -> tuple[str, ...]:
    """People as ``person_label`` names them, in the order of their user names (stable)."""
    return tuple(person_label(person) for person in _sorted(people))


def _contacts(people: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    """Who of ``people`` can be called, and on which number (prefetched profiles: no query)."""
    return tuple((person_label(person), phone) for person in _sorted(people) if (phone := phone_of(person)))


def _phoned(names: tuple[str, ...], contacts: tuple[tuple[str, str], ...]) -> list[str]:
    """Names with their phone number after them (*carl.custodian, +1 555 0101*)."""
    phones = dict(contacts)
    return [f"{name}, {phones[name]}" if name in phones else name for name in names]


def _approvers_left(request: AccessRequest) -> list[Any]:
    decided = {approval.approver_id for approval in request.approvals.all()}
    return [
        person
        for person in request.account.approvers.all()
        if person.pk != request.requester_id and person.pk not in decided
    ]


def hand_over_candidates(request: AccessRequest) -> list[Any]:
    """Who may hand the holder the account's MFA devices: its custodians, never the holder, and (when
    the account separates duties) nobody who approved it; ``rules.refusal_to_hand_over`` without the
    status, over prefetched rows only (the home page lists many requests)."""
    approved_by = {
        approval.approver_id for approval in request.approvals.all() if approval.decision == Decision.APPROVE
    }
    return [
        person
        for person in request.account.custodians.all()
        if person.pk != request.requester_id
        and not (request.account.separate_duties and person.pk in approved_by)
    ]


def _other_custodians(request: AccessRequest) -> list[Any]:
    return [person for person in request.account.custodians.all() if person.pk != request.requester_id]


def _waiting(prefix: str, people: Iterable[Any], nobody: str) -> NextStep:
    """*<prefix> — carl.custodian, +1 555 0101 or cora.custodian.*: the people who can act, each with
    the phone number they recorded."""
    people = list(people)
    names, contacts = _labels(people), _contacts(people)
    if not names:
        return NextStep(f"{prefix} — {nobody}")
    return NextStep(f"{prefix} — {either(_phoned(names, contacts))}.", waiting_for=names, contacts=contacts)


def next_step(request: AccessRequest, *, now: datetime) -> NextStep:
    """What the request waits for now, and from whom."""
    status = request.status
    if status == S.PENDING:
        approved = sum(1 for a in request.approvals.all() if a.decision == Decision.APPROVE)
        missing = max(request.account.approval_quorum - approved, 1)
        approvers = _approvers_left(request)
        people, contacts = _labels(approvers), _contacts(approvers)
        wanted = f"{missing} more approval{'s' if missing > 1 else ''}"
        if not people:
            return NextStep(
                f"Waiting for {wanted}, but no approver of {request.account.name} is left to decide: "
                "ask an administrator to add one, or cancel."
            )
        return NextStep(
            f"Waiting for {wanted} from {either(_phoned(people, contacts))}.",
            waiting_for=people,
            contacts=contacts,
        )
    if status == S.APPROVED:
        holder = person_label(request.requester)
        if now < request.starts_at:
            return NextStep(
                f"Approved. {holder} checks out when the window opens, "
                f"{request.starts_at:%Y-%m-%d %H:%M} UTC.",
                waiting_for=(holder,),
            )
        then = (
            "then presses “Run task” and the portal does it through sts:AssumeRoot (no password or "
            "device is handed out)."
            if request.is_assume_root
            else "a custodian then hands over the MFA devices."
        )
        return NextStep(
            f"Approved. {holder} checks out before {request.window_ends_at:%Y-%m-%d %H:%M} UTC; {then}",
            waiting_for=(holder,),
        )
    if status == S.ACTIVE:
        if request.emergency and request.emergency_acknowledged_at is None:
            return _waiting(
                "Emergency session: waiting for an approver or custodian to acknowledge it",
                {*request.account.approvers.all(), *request.account.custodians.all()} - {request.requester},
                "nobody of this account can; tell the security team.",
            )
        if request.is_assume_root:
            holder = person_label(request.requester)
            due = f"{request.due_at:%Y-%m-%d %H:%M} UTC" if request.due_at else "its due time"
            return NextStep(
                f"Checked out; waiting for {holder} to press “Run task” before {due}. The portal runs "
                "it through sts:AssumeRoot and checks the session in: no password or device is handed out.",
                waiting_for=(holder,),
            )
        if request.handed_over_at is None:
            return _waiting(
                "Checked out; waiting for a custodian to hand over the MFA devices",
                hand_over_candidates(request),
                "no custodian of this account may; ask an administrator.",
            )
        due = f"{request.due_at:%Y-%m-%d %H:%M} UTC" if request.due_at else "its due time"
        holder = person_label(request.requester)
        return NextStep(
            f"In use by {holder} until {due}; then the devices come back and the session is checked in.",
            waiting_for=(holder,),
        )
    if status in (S.RETURNED, S.REVOKED) and request.checked_in_at is not None:
        waiting_devices = [r.device.label for r in request.device_returns.all() if r.confirmed_at is None]
        parts = []
        if waiting_devices:
            parts.append(f"the return of {', '.join(sorted(waiting_devices))}")
        if status == S.RETURNED:
            # An AssumeRoot session used no password: it is reviewed, not rotated.
            parts.append("its review" if request.is_assume_root else "the password rotation")
        if parts:
            return _waiting(
                f"Checked in; waiting for a custodian to confirm {' and '.join(parts)}",
                _other_custodians(request),
                "no custodian of this account may; ask an administrator.",
            )
        return NextStep("Revoked; the devices are back in the safe.", done=True)
    if rules.returning_after_revoke(request) and request.is_assume_root:
        return NextStep("Revoked; no password or device was handed out, so nothing comes back.", done=True)
    if rules.returning_after_revoke(request):
        holder = person_label(request.requester)
        return NextStep(
            f"Revoked; {holder} or a custodian must check the devices and password back in.",
            waiting_for=(holder,),
        )
    return NextStep(f"{request.get_status_display()}: nothing more happens.", done=True)
