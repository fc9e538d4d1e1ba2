"""Every write of an access review (recertification, PCI DSS 7.2.4): start a campaign, decide an
item, remind the reviewers, close the campaigns whose deadline passed, and start one on schedule.

Each service writes its ledger entry in its own transaction; a revoke decision ends the access
through the inventory's services in that same transaction, so the decision and its effect are both
recorded or neither is. Missing decisions are findings, raised by the evidence side on the signal
``breakglass.signals.review_campaign_closed`` (``breakglass`` never imports ``audits``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from breakglass import review_rules, services
from breakglass.choices import CampaignStatus, CustodyState, ReviewDecision, ReviewSubject, UndecidedOutcome
from breakglass.models import AwsAccount, Grant, MfaDevice, ReviewCampaign, ReviewItem
from breakglass.notifications import outbox
from breakglass.notifications.messages import REVIEW_REMINDER_EVENT, REVIEW_STARTED_EVENT
from breakglass.signals import review_campaign_closed
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError
from portal.validators import check_text_lengths

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: Reviewers with decisions waiting are reminded this often, and daily in the campaign's last days.
REMIND_EVERY = timedelta(days=7)
REMIND_DAILY_BEFORE_DEADLINE = timedelta(days=3)

#: The decisions a reviewer may give on each kind of question.
DECISIONS_BY_SUBJECT = {
    ReviewSubject.GRANT: (ReviewDecision.KEEP, ReviewDecision.REVOKE),
    ReviewSubject.APPROVER: (ReviewDecision.KEEP, ReviewDecision.REVOKE),
    ReviewSubject.CUSTODIAN: (ReviewDecision.KEEP, ReviewDecision.REVOKE),
    ReviewSubject.DEVICE: (ReviewDecision.SEEN, ReviewDecision.MISSING),
}


def _items_for(campaign: ReviewCampaign) -> list[ReviewItem]:
    """One question per live grant, approver and custodian assignment, and device in the safe."""
    items = [
        ReviewItem(
            campaign=campaign,
            subject=ReviewSubject.GRANT,
            grant=grant,
            account_id=grant.account_id,
            person_id=grant.user_id,
        )
        for grant in Grant.objects.live().order_by("pk")
    ]
    for subject, through in (
        (ReviewSubject.APPROVER, AwsAccount.approvers.through),
        (ReviewSubject.CUSTODIAN, AwsAccount.custodians.through),
    ):
        items += [
            ReviewItem(campaign=campaign, subject=subject, account_id=account_id, person_id=user_id)
            for account_id, user_id in through.objects.order_by("pk").values_list("awsaccount_id", "user_id")
        ]
    # A device registered on no account has no custodian to confirm it; the inventory shows it.
    devices = MfaDevice.objects.filter(custody_state=CustodyState.IN_SAFE, assignments__isnull=False)
    items += [
        ReviewItem(campaign=campaign, subject=ReviewSubject.DEVICE, device=device)
        for device in devices.distinct().order_by("pk")
    ]
    return items


def waiting_by_reviewer(campaign: ReviewCampaign) -> dict[Any, int]:
    """Each reviewer with undecided items of ``campaign``, and how many."""
    undecided = list(
        campaign.items.filter(decision="").values_list(
            "pk", "subject", "account_id", "device_id", "person_id"
        )
    )
    approvers: dict[int, set[Any]] = {}
    for account_id, user in AwsAccount.approvers.through.objects.values_list("awsaccount_id", "user"):
        approvers.setdefault(account_id, set()).add(user)
    custodians: dict[int, set[Any]] = {}
    rows = MfaDevice.accounts.through.objects.values_list("device_id", "account__custodians")
    for device_id, user in rows:
        if user is not None:
            custodians.setdefault(device_id, set()).add(user)
    counts: Counter[Any] = Counter()
    for _, subject, account_id, device_id, person_id in undecided:
        reviewers = (
            custodians.get(device_id, set())
            if subject == ReviewSubject.DEVICE
            else approvers.get(account_id, set())
        )
        counts.update(user for user in reviewers if user != person_id)
    people = {person.pk: person for person in _users(counts)}
    return {people[pk]: count for pk, count in counts.items() if pk in people}


def _users(pks: Iterable[Any]) -> list[User]:
    return list(get_user_model().objects.filter(pk__in=list(pks)))


def review_campaign_start(
    *, actor: User | None, deadline: datetime, now: datetime | None = None
) -> ReviewCampaign:
    """Open an access review of every live grant, approver and custodian assignment, and every MFA
    device in the safe, due by ``deadline``. ``actor`` is an administrator, or None for the schedule."""
    now = now or timezone.now()
    if actor is not None and not policy.may_manage_inventory(actor):
        raise DomainError("Only a portal administrator with MFA may start an access review.")
    if deadline <= now:
        raise DomainError({"deadline": "The deadline must be in the future."})
    previous = ReviewCampaign.objects.order_by("-created_at").first()
    period_start = (
        previous.period_end if previous else now - timedelta(days=settings.PORTAL_REVIEW_INTERVAL_DAYS)
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                campaign = ReviewCampaign.objects.create(
                    started_by=actor,
                    period_start=min(period_start, now),
                    period_end=now,
                    deadline=deadline,
                    undecided_outcome=settings.PORTAL_REVIEW_UNDECIDED,
                )
        except IntegrityError:
            raise DomainError("An access review is open already; close it before starting another.") from None
        items = ReviewItem.objects.bulk_create(_items_for(campaign))
        counts = Counter(item.subject for item in items)
        ledger.record(
            actor=actor,
            action="review.started",
            target=campaign,
            data={
                "deadline": deadline.isoformat(),
                "undecided_outcome": campaign.undecided_outcome,
                "items": {subject: counts.get(subject, 0) for subject in ReviewSubject.values},
            },
        )
        outbox.queue_review(
            event=REVIEW_STARTED_EVENT, campaign=campaign, waiting=waiting_by_reviewer(campaign)
        )
    return campaign


def review_item_decide(
    *, item: ReviewItem, reviewer: User, decision: str, note: str = "", serial_seen: str = ""
) -> ReviewItem:
    """Record ``reviewer``'s decision on ``item``. Revoke ends the grant or assignment at once; a
    device is seen only with its serial typed as printed on it."""
    check_text_lengths({"note": note})
    with transaction.atomic():
        locked = (
            ReviewItem.objects.select_for_update(of=("self",))
            .select_related("campaign", "account", "person", "grant", "device")
            .get(pk=item.pk)
        )
        refusal = review_rules.refusal_to_decide_review(reviewer, locked)
        if refusal:
            raise DomainError(refusal)
        if decision not in DECISIONS_BY_SUBJECT[ReviewSubject(locked.subject)]:
            raise DomainError({"decision": "This decision does not fit this question."})
        if decision == ReviewDecision.SEEN and not _serial_matches(locked.device, serial_seen):
            raise DomainError(
                {"serial_seen": "The serial does not match this device: type it as printed on it."}
            )
        locked.decision = decision
        locked.decided_by = reviewer
        locked.decided_at = timezone.now()
        locked.note = note
        locked.save(update_fields=["decision", "decided_by", "decided_at", "note", "updated_at"])
        ledger.record(
            actor=reviewer,
            action="review.decided",
            target=locked,
            data={
                "campaign": str(locked.campaign.uuid),
                "subject": locked.subject,
                "decision": decision,
                "account_id": locked.account.account_id if locked.account else None,
                "person": locked.person.get_username() if locked.person else None,
                "device": locked.device.serial_number if locked.device else None,
                "note": note,
            },
        )
        if decision == ReviewDecision.REVOKE:
            _revoke(locked, reviewer)
        elif decision == ReviewDecision.KEEP and locked.grant is not None:
            # The grant's own record of its last review (shown with it in the inventory and the
            # access report); the expiry does not move: only an administrator extends a grant.
            Grant.objects.filter(pk=locked.grant.pk).update(
                last_reviewed_at=locked.decided_at, last_reviewed_by=reviewer, updated_at=locked.decided_at
            )
    return locked


def _serial_matches(device: MfaDevice | None, typed: str) -> bool:
    # Case and surrounding spaces do not matter on a printed label; every other character does.
    return device is not None and typed.strip().casefold() == device.serial_number.strip().casefold()


def _revoke(item: ReviewItem, reviewer: User) -> None:
    if item.subject == ReviewSubject.GRANT and item.grant is not None:
        if item.grant.revoked_at is None:
            services.grant_revoke(actor=reviewer, grant=item.grant, review=item)
    elif item.account is not None and item.person is not None:
        account_assignment_remove(actor=reviewer, account=item.account, person=item.person, review=item)


def account_assignment_remove(*, actor: User, account: AwsAccount, person: Any, review: ReviewItem) -> None:
    """Take ``person`` off ``account``'s approvers or custodians (``review.subject`` says which) on a
    reviewer's revoke decision, with the same ledger entry as ``services.account_update``. Refused
    when the approvers left would fall below the quorum: an administrator adds an approver or lowers
    the quorum first (the decision is then not recorded either)."""
    if review.account_id != account.pk or review.person_id != person.pk or review.decided_by_id != actor.pk:
        raise DomainError("This review decision is not about this assignment.")
    role = "approvers" if review.subject == ReviewSubject.APPROVER else "custodians"
    with transaction.atomic():
        locked = AwsAccount.objects.select_for_update().get(pk=account.pk)
        people = getattr(locked, role)
        before = sorted(people.values_list("username", flat=True))
        if person.get_username() not in before:
            return
        if role == "approvers" and len(before) - 1 < locked.approval_quorum:
            raise DomainError(
                f"{locked} needs {locked.approval_quorum} approvers; removing {person.get_username()} "
                "leaves too few. Ask an administrator to add an approver or lower the quorum first."
            )
        people.remove(person)
        after = sorted(people.values_list("username", flat=True))
        ledger.record(
            actor=actor,
            action="account.updated",
            target=locked,
            data={"changes": {role: {"from": before, "to": after}}, "review_item": str(review.uuid)},
        )


def grant_expire_unreviewed(*, grant: Grant, review: ReviewItem) -> Grant:
    """At an access review's deadline, expire a live grant nobody decided on (``review``, undecided):
    the holder must be granted again, or an administrator extends it (``grant_review``)."""
    if review.grant_id != grant.pk or review.decision:
        raise DomainError("This review item is not an undecided question about this grant.")
    with transaction.atomic():
        locked = Grant.objects.select_for_update().select_related("user", "account").get(pk=grant.pk)
        now = timezone.now()
        if locked.revoked_at is not None or locked.expires_at <= now:
            return locked
        previous = locked.expires_at
        locked.expires_at = now
        locked.save(update_fields=["expires_at", "updated_at"])
        ledger.record(
            actor=None,
            action="grant.expired_unreviewed",
            target=locked,
            data={
                "user": locked.user.get_username(),
                "account_id": locked.account.account_id,
                "expires_at": {"from": previous.isoformat(), "to": now.isoformat()},
                "review_item": str(review.uuid),
            },
        )
    return locked


def review_campaigns_close_due(*, now: datetime | None = None) -> int:
    """Close every open campaign past its deadline: expire its undecided grants (unless the campaign
    keeps them), write the ledger entry, and send ``review_campaign_closed`` with the undecided
    items so the evidence side raises their finding. Returns how many campaigns closed."""
    now = now or timezone.now()
    closed = 0
    due = ReviewCampaign.objects.filter(status=CampaignStatus.OPEN, deadline__lte=now).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        with transaction.atomic():
            campaign = (
                ReviewCampaign.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=CampaignStatus.OPEN)
                .first()
            )
            if campaign is None:
                continue  # another worker is closing it
            undecided = list(
                campaign.items.filter(decision="").select_related("account", "person", "grant", "device")
            )
            expired = 0
            if campaign.undecided_outcome == UndecidedOutcome.EXPIRE:
                for item in undecided:
                    if (
                        item.grant is not None
                        and item.grant.revoked_at is None
                        and item.grant.expires_at > now
                    ):
                        grant_expire_unreviewed(grant=item.grant, review=item)
                        expired += 1
            campaign.status = CampaignStatus.CLOSED
            campaign.closed_at = now
            campaign.save(update_fields=["status", "closed_at", "updated_at"])
            ledger.record(
                actor=None,
                action="review.closed",
                target=campaign,
                data={
                    "items": campaign.items.count(),
                    "undecided": len(undecided),
                    "grants_expired": expired,
                    "undecided_outcome": campaign.undecided_outcome,
                },
            )
            review_campaign_closed.send(sender=ReviewCampaign, campaign=campaign, undecided=undecided)
            closed += 1
    return closed


def review_campaigns_remind(*, now: datetime | None = None) -> int:
    """Remind the reviewers of open campaigns of their waiting decisions: every ``REMIND_EVERY``, and
    daily in the last ``REMIND_DAILY_BEFORE_DEADLINE``. Returns how many reviewers were reminded."""
    now = now or timezone.now()
    reminded = 0
    for campaign in ReviewCampaign.objects.filter(status=CampaignStatus.OPEN, deadline__gt=now):
        last = campaign.last_reminded_at or campaign.created_at
        every = timedelta(days=1) if campaign.deadline - now <= REMIND_DAILY_BEFORE_DEADLINE else REMIND_EVERY
        if now - last < every:
            continue
        with transaction.atomic():
            waiting = waiting_by_reviewer(campaign)
            outbox.queue_review(event=REVIEW_REMINDER_EVENT, campaign=campaign, waiting=waiting)
            campaign.last_reminded_at = now
            campaign.save(update_fields=["last_reminded_at", "updated_at"])
        reminded += len(waiting)
    return reminded


def review_campaign_start_if_due(*, now: datetime | None = None) -> ReviewCampaign | None:
    """Start the scheduled campaign when the last one started ``PORTAL_REVIEW_INTERVAL_DAYS`` ago (or
    none ever did) and none is open; it is due ``PORTAL_REVIEW_DAYS`` later."""
    now = now or timezone.now()
    if ReviewCampaign.objects.filter(status=CampaignStatus.OPEN).exists():
        return None
    cutoff = now - timedelta(days=settings.PORTAL_REVIEW_INTERVAL_DAYS)
    if ReviewCampaign.objects.filter(created_at__gt=cutoff).exists():
        return None
    try:
        return review_campaign_start(
            actor=None, deadline=now + timedelta(days=settings.PORTAL_REVIEW_DAYS), now=now
        )
    except DomainError:
        return None  # another worker opened it a moment ago
