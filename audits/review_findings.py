"""Decisions an access review did not get by its deadline become findings (PCI DSS 7.2.4).

``breakglass`` must not import ``audits``; it sends ``breakglass.signals.review_campaign_closed``
with the undecided items, and this receiver (connected in ``AuditsConfig.ready``) raises one
finding ``access_review_incomplete`` per campaign and account (devices, which belong to no single
account, share one finding per campaign), through ``audits.alerts`` like every other finding, in
the transaction that closes the campaign.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.dispatch import receiver
from django.utils import timezone

from audits import alerts
from audits.choices import SEVERITY_BY_KIND, FindingKind
from audits.models import Finding
from breakglass.signals import review_campaign_closed

if TYPE_CHECKING:
    from breakglass.models import AwsAccount, ReviewCampaign, ReviewItem

KIND = FindingKind.ACCESS_REVIEW_INCOMPLETE


def dedupe_key(campaign: ReviewCampaign, account: AwsAccount | None) -> str:
    """One finding per campaign and account; ``devices`` for the devices' questions."""
    return f"{KIND.value}:{campaign.uuid}:{account.account_id if account else 'devices'}"


def summary_of(campaign: ReviewCampaign, account: AwsAccount | None, items: list[ReviewItem]) -> str:
    what = ", ".join(sorted({item.get_subject_display().lower() for item in items}))
    where = f"of {account}" if account else "of MFA devices in the safe"
    return (
        f"The access review of {campaign.period_end:%Y-%m-%d} closed on {campaign.deadline:%Y-%m-%d} "
        f"with {len(items)} undecided question(s) {where} ({what})."
    )


@receiver(review_campaign_closed, dispatch_uid="audits.access_review_incomplete")
def access_review_incomplete(
    sender: Any, *, campaign: ReviewCampaign, undecided: list[ReviewItem], **_: Any
) -> list[Finding]:
    """Raise the findings of a campaign closed with undecided items (none when all were decided)."""
    by_account: dict[AwsAccount | None, list[ReviewItem]] = defaultdict(list)
    for item in undecided:
        by_account[item.account].append(item)
    now = timezone.now()
    findings = []
    for account, items in by_account.items():
        key = dedupe_key(campaign, account)
        if Finding.objects.filter(dedupe_key=key).exists():
            continue
        summary = summary_of(campaign, account, items)
        finding = alerts.finding_raise(
            key=key,
            kind=KIND,
            severity=SEVERITY_BY_KIND[KIND],
            first_seen=now,
            last_seen=now,
            summary=summary,
            account=account,
            detail={"review_items": [str(item.uuid) for item in items]},
        )
        # High, not critical: finding_alert alerts only on critical findings; kept for when that changes.
        alerts.finding_alert(
            finding=finding, account=account, short_label=str(account or "MFA devices"), event_ids=(), now=now
        )
        findings.append(finding)
    return findings
