"""The access-review report (PCI DSS 7.2.4): per campaign, every item asked (a grant, an approver or
custodian assignment, an MFA device in the safe), who may decide it, the decision, who took it and
when, and what is still outstanding."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet

from audits.reports.base import Report, ReportFilter, Row, in_chunks, iso, may_read, username
from breakglass.choices import ReviewSubject
from breakglass.models import AwsAccount, MfaDevice, ReviewItem

if TYPE_CHECKING:
    from audits.reports.base import AnyUser

REVIEW_COLUMNS = (
    "campaign",
    "campaign_started",
    "campaign_deadline",
    "campaign_status",
    "subject",
    "account_id",
    "account_name",
    "environment",
    "person",
    "device",
    "reviewers",
    "decision",
    "decided_by",
    "decided_at",
    "note",
    "outstanding",
)


def items_for_report(*, user: AnyUser | None, filters: ReportFilter | None = None) -> QuerySet[ReviewItem]:
    """Review items, campaigns oldest first, with who may decide each loaded per chunk.

    A period keeps the campaigns started inside it; ``status`` is "outstanding" or "decided".
    """
    if not may_read(user):
        return ReviewItem.objects.none()
    q = Q()
    if filters is not None:
        if filters.campaign:
            q &= Q(campaign__uuid=filters.campaign)
        if filters.since is not None:
            q &= Q(campaign__period_end__gte=filters.since)
        if filters.until is not None:
            q &= Q(campaign__period_end__lte=filters.until)
        if filters.account_id:
            q &= Q(account__account_id=filters.account_id) | Q(
                device__accounts__account_id=filters.account_id
            )
        if filters.environment:
            q &= Q(account__environment=filters.environment) | Q(
                device__accounts__environment=filters.environment
            )
        if filters.status == "outstanding":
            q &= Q(decision="")
        elif filters.status == "decided":
            q &= ~Q(decision="")
    return (
        ReviewItem.objects.filter(q)
        .distinct()
        .select_related("campaign", "account", "person", "device", "decided_by")
        .prefetch_related(
            Prefetch("account__approvers"),
            Prefetch(
                "device__accounts",
                queryset=AwsAccount.objects.prefetch_related("custodians").order_by("account_id"),
            ),
        )
        .order_by("campaign__period_end", "campaign_id", "subject", "pk")
    )


def _reviewers(item: ReviewItem) -> list[str]:
    """Who may decide the item (``breakglass.review_rules``): the account's approvers, or for a device
    the custodians of the accounts it serves; never the person whose access it is."""
    if item.subject == ReviewSubject.DEVICE:
        device: MfaDevice | None = item.device
        people = (
            {c for account in device.accounts.all() for c in account.custodians.all()} if device else set()
        )
    else:
        people = set(item.account.approvers.all()) if item.account is not None else set()
    return sorted(person.get_username() for person in people if person.pk != item.person_id)


def review_row(item: ReviewItem) -> Row:
    campaign = item.campaign
    device = item.device
    account = item.account
    if account is None and device is not None:
        accounts = list(device.accounts.all())
        account = accounts[0] if len(accounts) == 1 else None
    return {
        "campaign": str(campaign.uuid),
        "campaign_started": iso(campaign.period_end),
        "campaign_deadline": iso(campaign.deadline),
        "campaign_status": campaign.status,
        "subject": item.subject,
        "account_id": account.account_id if account is not None else None,
        "account_name": account.name if account is not None else None,
        "environment": account.environment if account is not None else None,
        "person": username(item.person),
        "device": f"{device.serial_number} ({device.label})" if device is not None else None,
        "reviewers": _reviewers(item),
        "decision": item.decision or None,
        "decided_by": username(item.decided_by),
        "decided_at": iso(item.decided_at),
        "note": item.note,
        "outstanding": not item.decision,
    }


def review_rows(*, user: AnyUser | None, filters: ReportFilter | None = None) -> Iterator[Row]:
    for chunk in in_chunks(items_for_report(user=user, filters=filters)):
        for item in chunk:
            yield review_row(item)


def review_count(*, user: AnyUser | None, filters: ReportFilter | None = None) -> int:
    return items_for_report(user=user, filters=filters).count()


REPORT = Report(
    name="reviews",
    title="Access reviews",
    columns=REVIEW_COLUMNS,
    rows=review_rows,
    count=review_count,
    filter_fields=("since", "until", "account", "environment", "status", "campaign"),
)
