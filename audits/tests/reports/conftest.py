"""A small world every report test reads: one account with an approver, a custodian, a grant and an
MFA device; one returned session with a root event inside its window; one root event outside every
window (an unapproved-usage finding); the posture finding of its missing security contact; an open
access review of it all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from audits.posture.checks import Outcome
from audits.posture.findings import apply_outcome
from audits.tests.findings_support import checkout, hours_ago, ingest_records, make_account, root_call
from breakglass import reviews
from breakglass.models import AccessRequest, AwsAccount, MfaDevice, MfaDeviceAssignment
from breakglass.tests.factories import MfaDeviceFactory


@dataclass
class World:
    account: AwsAccount
    session: AccessRequest
    device: MfaDevice


@pytest.fixture
def world(tmp_path: Path, requester: Any, approver: Any, custodian: Any) -> World:
    account = make_account(approver, custodian)
    device = MfaDeviceFactory(serial_number="SN-REPORT-1", label="YubiKey report")
    MfaDeviceAssignment.objects.create(device=device, account=account, device_kind=device.kind)
    out = hours_ago(3)
    session = checkout(requester, account, approver, out_at=out, checked_in_at=out + timedelta(minutes=45))
    ingest_records(
        tmp_path,
        [
            root_call(when=out + timedelta(minutes=10), event_id="inside-window"),
            root_call(when=hours_ago(1), event_id="outside-window"),
        ],
    )
    session.refresh_from_db()
    # In a transaction as the posture service runs it (it locks the finding row): the browser tests
    # use this world without the test's own transaction around them.
    with transaction.atomic():
        apply_outcome(
            outcome=Outcome(
                "alternate_contact_security", "fail", f"{account} has no security alternate contact."
            ),
            account=account,
            now=hours_ago(2),
        )
    # An access review of it all (the reviews report), started by the schedule, nothing decided yet.
    reviews.review_campaign_start(actor=None, deadline=timezone.now() + timedelta(days=30))
    return World(account=account, session=session, device=device)
