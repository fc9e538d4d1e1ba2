"""Rows for the overview and incident tests, written straight to the models (the ingestion and
reconciliation that normally write them are tested elsewhere)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from audits import alerts
from audits.models import Finding, RootEvent


def root_event(*, account_id: str, when: datetime, name: str = "ConsoleLogin") -> RootEvent:
    return RootEvent.objects.create(
        event_id=str(uuid.uuid4()),
        aws_account_id=account_id,
        event_time=when,
        event_name=name,
        event_source="signin.amazonaws.com",
        raw={"eventName": name},
    )


def finding(
    *, kind: str, severity: str, account: Any, when: datetime, events: list[RootEvent] = ()
) -> Finding:  # type: ignore[assignment]
    created = alerts.finding_create(
        key=f"{kind}:{uuid.uuid4()}",
        kind=kind,
        severity=severity,
        first_seen=when,
        last_seen=when,
        summary=f"{kind} in {account.account_id}",
        aws_account_id=account.account_id,
        account=account,
    )
    created.events.add(*events)
    return created
