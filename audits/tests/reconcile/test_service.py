"""Reconciling accounts: idempotent, and a fixed number of queries per account."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.choices import FindingKind
from audits.models import Finding, RootEvent
from audits.reconcile import reconcile
from audits.tests.findings_support import (
    ACCOUNT_ID,
    checkout,
    hours_ago,
    ingest_records,
    make_account,
    root_call,
    root_login,
)
from breakglass.models import Notification
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

M = timedelta(minutes=1)


def test_reconciling_again_changes_nothing(
    tmp_path: Path, requester: Any, account: Any, approver: Any
) -> None:
    out = hours_ago(3)
    checkout(requester, account, approver, out_at=out, minutes=30, checked_in_at=out + 50 * M)
    ingest_records(
        tmp_path,
        [
            root_login(when=out + M, mfa="No"),
            root_call(when=out + 2 * M, name="CreateUser"),
            root_call(when=out - timedelta(hours=1)),
            root_login(when=out - timedelta(hours=1), success=False),
        ],
    )
    findings = list(Finding.objects.order_by("pk").values())
    entries = LedgerEntry.objects.count()
    notifications = Notification.objects.count()

    assert reconcile() == 0
    assert reconcile(account_ids=[ACCOUNT_ID]) == 0

    assert list(Finding.objects.order_by("pk").values()) == findings
    assert LedgerEntry.objects.count() == entries
    assert Notification.objects.count() == notifications


def _bulk_events(account_id: str, count: int, start: Any) -> None:
    RootEvent.objects.bulk_create(
        [
            RootEvent(
                event_id=f"{account_id}-{index}",
                aws_account_id=account_id,
                event_time=start + index * timedelta(seconds=20),
                event_name="ConsoleLogin" if index % 2 else "CreateUser",
                event_source="iam.amazonaws.com",
                source_ip="198.51.100.7",
                raw={},
            )
            for index in range(count)
        ]
    )


def test_reconcile_costs_the_same_number_of_queries_for_10_events_as_for_100(
    requester: Any, approver: Any, custodian: Any
) -> None:
    counts: dict[int, int] = {}
    for size, account_id in ((10, "111111111111"), (100, "222222222222")):
        account = make_account(approver, custodian, account_id=account_id)
        out = hours_ago(3)
        checkout(requester, account, approver, out_at=out, checked_in_at=out + 30 * M)
        # Half inside the check-out (matched, partly out of scope), half long after (unapproved).
        _bulk_events(account_id, size // 2, out + M)
        RootEvent.objects.bulk_create(
            [
                RootEvent(
                    event_id=f"late-{account_id}-{index}",
                    aws_account_id=account_id,
                    event_time=out + timedelta(hours=2) + index * timedelta(seconds=1),
                    event_name="ListBuckets",
                    event_source="s3.amazonaws.com",
                    raw={},
                )
                for index in range(size - size // 2)
            ]
        )
        with CaptureQueriesContext(connection) as queries:
            reconcile(account_ids=[account_id])
        counts[size] = len(queries.captured_queries)
        kinds = set(Finding.objects.filter(aws_account_id=account_id).values_list("kind", flat=True))
        assert kinds == {FindingKind.UNAPPROVED_ROOT_USAGE, FindingKind.ROOT_ACTIVITY_OUTSIDE_SCOPE}
        assert RootEvent.objects.filter(aws_account_id=account_id, session__isnull=False).count() == size // 2
    assert counts[10] == counts[100]
