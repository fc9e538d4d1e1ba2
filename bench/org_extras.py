"""The rest of a generated organization's lists, in bulk: ingestion runs, organization syncs with
their changes, posture results, drills, access reviews with their items, API tokens and export jobs.

Each grows with the organization (a fixed share of its accounts, grants or people), so the
query-count test (``portal/tests/test_list_query_counts.py``) sees every list page with more rows at
the larger size, and the load benchmark reads pages that are not empty.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from typing import Any

from org_sessions import bulk


def generate_extras(
    *,
    rng: random.Random,
    now: datetime,
    accounts: list[Any],
    people: list[Any],
    approvers: list[Any],
    grants: list[Any],
) -> dict[str, int]:
    from api.models import ApiToken
    from audits.choices import (
        ExportJobStatus,
        OrganizationChangeKind,
        PostureStatus,
        RunStatus,
        SourceKind,
        SyncStatus,
        SyncTrigger,
    )
    from audits.models import ExportJob, IngestionRun, OrganizationChange, OrganizationSync, PostureResult
    from audits.posture.controls import ACCOUNT_CHECKS
    from breakglass.choices import CampaignStatus, RequestStatus, ReviewDecision, ReviewSubject
    from breakglass.models import AccessRequest, Drill, ReviewCampaign, ReviewItem

    runs = bulk(
        IngestionRun,
        [
            IngestionRun(
                kind=SourceKind.FILES,
                unit=f"AWSLogs/o-example/{account.account_id}/CloudTrail/us-east-1/",
                status=RunStatus.SUCCEEDED,
                finished_at=now,
                files_read=rng.randint(1, 40),
                records_read=rng.randint(100, 100_000),
                root_records=rng.randint(0, 20),
            )
            for account in accounts
            for _ in range(2)
        ],
    )
    syncs = bulk(
        OrganizationSync,
        [
            OrganizationSync(
                trigger=SyncTrigger.SCHEDULE,
                status=SyncStatus.SUCCEEDED,
                finished_at=now,
                organization_id="o-example",
                management_account_id=accounts[0].account_id,
                accounts_seen=len(accounts),
                changes_made=1,
            )
            for _ in range(max(1, len(accounts) // 4))
        ],
    )
    bulk(
        OrganizationChange,
        [
            OrganizationChange(
                sync=sync,
                account=accounts[index % len(accounts)],
                kind=OrganizationChangeKind.RENAMED,
                before="old-name",
                after=accounts[index % len(accounts)].name,
            )
            for index, sync in enumerate(syncs)
        ],
    )
    # One account in five fails each check: enough failing accounts to fill the page's lists.
    bulk(
        PostureResult,
        [
            PostureResult(
                account=account,
                check_name=check,
                status=PostureStatus.FAIL if index % 5 == 0 else PostureStatus.PASS,
                reason="Generated." if index % 5 == 0 else "",
                checked_at=now,
            )
            for index, account in enumerate(accounts)
            for check in ACCOUNT_CHECKS
        ],
    )
    # Drills: the first checked-in session of every other account becomes that account's drill.
    drilled: dict[int, int] = {}
    for request_pk, account_pk in (
        AccessRequest.objects.filter(status=RequestStatus.CLOSED, account__in=accounts[::2])
        .order_by("account", "pk")
        .values_list("pk", "account")
    ):
        drilled.setdefault(account_pk, request_pk)
    AccessRequest.objects.filter(pk__in=drilled.values()).update(is_drill=True)
    bulk(Drill, [Drill(request_id=pk, scheduled_by=approvers[0]) for pk in drilled.values()])
    # Access reviews: a closed one and the open one, each asking about every grant; the open one
    # with a third decided.
    campaigns = bulk(
        ReviewCampaign,
        [
            ReviewCampaign(
                period_start=now - timedelta(days=180),
                period_end=now - timedelta(days=90),
                deadline=now - timedelta(days=76),
                status=CampaignStatus.CLOSED,
                closed_at=now - timedelta(days=76),
            ),
            ReviewCampaign(
                period_start=now - timedelta(days=90), period_end=now, deadline=now + timedelta(days=14)
            ),
        ],
    )
    items = []
    for campaign in campaigns:
        for k, grant in enumerate(grants):
            decided = campaign.status == CampaignStatus.CLOSED or k % 3 == 0
            items.append(
                ReviewItem(
                    campaign=campaign,
                    subject=ReviewSubject.GRANT,
                    account_id=grant.account_id,
                    person_id=grant.user_id,
                    grant=grant,
                    decision=ReviewDecision.KEEP if decided else "",
                    decided_by=approvers[k % len(approvers)] if decided else None,
                    decided_at=now if decided else None,
                )
            )
    bulk(ReviewItem, items)
    # API tokens: a live one for every fourth person.
    tokens = []
    for index, person in enumerate(people[::4]):
        prefix = f"g{index:07d}"
        tokens.append(
            ApiToken(
                user=person,
                name=f"tool {index}",
                prefix=prefix,
                digest=hashlib.sha256(prefix.encode()).hexdigest(),
                scopes=["read:inventory"],
                expires_at=now + timedelta(days=90),
            )
        )
    bulk(ApiToken, tokens)
    bulk(
        ExportJob,
        [
            ExportJob(
                requested_by=person,
                report="findings",
                format="pdf",
                status=ExportJobStatus.DONE,
                finished_at=now,
            )
            for person in people[:: max(1, len(people) // 20)]
        ],
    )
    return {
        "ingestion_runs": len(runs),
        "organization_syncs": len(syncs),
        "drills": len(drilled),
        "review_items": len(items),
        "api_tokens": len(tokens),
    }
