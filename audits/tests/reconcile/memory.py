"""Rows built in memory, never saved, for the pure parts of reconciliation (windows, wanted, wording).

The tests that use them run without a database: any query the code under test made would fail.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User

from audits.models import RootEvent
from breakglass.choices import RequestStatus
from breakglass.models import AccessRequest, AwsAccount

ACCOUNT_ID = "123456789012"
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)
_event_pks = itertools.count(1)


def account() -> AwsAccount:
    return AwsAccount(pk=1, account_id=ACCOUNT_ID, name="payments-prod")


def session(
    pk: int = 1,
    *,
    out_at: datetime = T0,
    minutes: int = 60,
    checked_in_at: datetime | None = None,
    status: str = RequestStatus.ACTIVE,
    root_task: str = "close_account",
    **fields: Any,
) -> AccessRequest:
    """A check-out of ``account()`` by Rita, due ``minutes`` after ``out_at``."""
    return AccessRequest(
        pk=pk,
        code=f"BG-260504-{pk:06d}",
        requester=User(pk=7, username="rita.requester", first_name="Rita", last_name="Requester"),
        account=account(),
        root_task=root_task,
        status=status,
        checked_out_at=out_at,
        due_at=out_at + minutes * M,
        checked_in_at=checked_in_at,
        **fields,
    )


def event(
    event_id: str,
    when: datetime,
    *,
    name: str = "ListBuckets",
    kinds: tuple[str, ...] = (),
    **fields: Any,
) -> RootEvent:
    """A stored root event of ``account()``, not yet matched."""
    return RootEvent(
        pk=next(_event_pks),
        event_id=event_id,
        aws_account_id=ACCOUNT_ID,
        event_time=when,
        event_name=name,
        event_source="s3.amazonaws.com",
        source_ip=fields.pop("source_ip", "198.51.100.7"),
        record_finding_kinds=list(kinds),
        raw={},
        **fields,
    )
