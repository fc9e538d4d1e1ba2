"""A large organization in the database, in bulk, for the benchmarks (not the services: bulk_create
and PostgreSQL ``COPY``, so 5,000 accounts and 1,000,000 root events take minutes, not hours).

The rows keep the relations the services make: accounts with approvers, custodians and MFA devices;
people with grants; access requests in every status with approvals, transitions, reveals and devices
handed over; root events, most matched to a checked-out session (some out of scope), the rest
unmatched; findings linked to sessions and events; a hash-chained ledger that verifies.

``Shape`` says how big; ``Shape()`` is the reports benchmark's organization (200 accounts) and
``Shape.large()`` the one of issue 13 (5,000 accounts, 20,000 grants, 50,000 sessions, 1,000,000
root events, 100,000 findings, 300,000 ledger entries). The other lists (runs, syncs, posture,
drills, access reviews, API tokens, export jobs) come from ``org_extras.py`` in proportion.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from org_extras import generate_extras
from org_sessions import DEVICES_PER_ACCOUNT, append_ledger, bulk, generate_sessions


@dataclass(frozen=True)
class Shape:
    accounts: int = 200
    people: int = 300
    grants: int = 660
    sessions: int = 10_000
    events: int = 1_000_000
    # Unapproved-use findings, one per group of unmatched events (plus one per tenth checked-out
    # session for out-of-scope use).
    unmatched_findings: int = 2_000
    ledger_entries: int = 0

    @classmethod
    def large(cls) -> Shape:
        return cls(
            accounts=5_000,
            people=2_000,
            grants=20_000,
            sessions=50_000,
            events=1_000_000,
            unmatched_findings=96_000,
            ledger_entries=300_000,
        )

    def scaled(self, factor: float) -> Shape:
        """The same organization ``factor`` times as big (at least one of each)."""

        def times(n: int) -> int:
            return max(1, int(n * factor)) if n else 0

        return Shape(
            accounts=times(self.accounts),
            people=max(100, times(self.people)),
            grants=times(self.grants),
            sessions=times(self.sessions),
            events=times(self.events),
            unmatched_findings=times(self.unmatched_findings),
            ledger_entries=times(self.ledger_entries),
        )


def generate(shape: Shape, *, seed: int = 9) -> dict[str, Any]:
    """The organization; returns how many rows of each kind, and the people by role."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from breakglass.choices import CustodyState, Environment, MfaDeviceKind
    from breakglass.models import AwsAccount, Grant, MfaDevice, MfaDeviceAssignment

    rng = random.Random(seed)
    now = timezone.now()
    user_model = get_user_model()
    people = bulk(
        user_model,
        [
            user_model(username=f"person{i:05d}", email=f"person{i:05d}@example.com", password="!")
            for i in range(shape.people)
        ],
    )
    team = max(2, shape.people // 8)
    approvers, custodians, requesters = people[:team], people[team : 2 * team], people[2 * team :]
    environments = list(Environment.values)
    accounts = bulk(
        AwsAccount,
        [
            AwsAccount(
                account_id=f"{100000000000 + i * 7919:012d}",
                name=f"account-{i:04d}",
                environment=environments[i % len(environments)],
                root_email=f"root+{i:04d}@example.com",
                approval_quorum=2,
            )
            for i in range(shape.accounts)
        ],
    )
    approver_links, custodian_links = [], []
    for index, account in enumerate(accounts):
        for person in {approvers[(index + k) % len(approvers)] for k in range(4)}:
            approver_links.append(AwsAccount.approvers.through(awsaccount_id=account.pk, user_id=person.pk))
        for person in {custodians[(index + k) % len(custodians)] for k in range(2)}:
            custodian_links.append(AwsAccount.custodians.through(awsaccount_id=account.pk, user_id=person.pk))
    bulk(AwsAccount.approvers.through, approver_links)
    bulk(AwsAccount.custodians.through, custodian_links)
    devices = bulk(
        MfaDevice,
        [
            MfaDevice(
                kind=MfaDeviceKind.FIDO,
                label=f"key {i}",
                serial_number=f"SN-{i:07d}",
                storage_location="safe A",
                custody_state=CustodyState.IN_SAFE,
            )
            for i in range(shape.accounts * DEVICES_PER_ACCOUNT)
        ],
    )
    bulk(
        MfaDeviceAssignment,
        [
            MfaDeviceAssignment(
                device=device, account=accounts[i // DEVICES_PER_ACCOUNT], device_kind=device.kind
            )
            for i, device in enumerate(devices)
        ],
    )
    # Grant k goes to requester k mod R, on an account that person holds no other grant on (one live
    # grant per person and account is a constraint): round k // R moves along that person's row.
    rounds = -(-shape.grants // len(requesters))
    if rounds > shape.accounts:
        raise SystemExit(f"{shape.grants} grants need more than {shape.accounts} accounts per requester")
    grants = [
        Grant(
            user=requesters[k % len(requesters)],
            account=accounts[((k % len(requesters)) * rounds + k // len(requesters)) % shape.accounts],
            granted_by=approvers[k % len(approvers)],
            expires_at=now + timedelta(days=90),
            last_reviewed_at=now - timedelta(days=30),
            last_reviewed_by=approvers[(k + 1) % len(approvers)],
        )
        for k in range(shape.grants)
    ]
    bulk(Grant, grants)

    counts = generate_sessions(
        sessions=shape.sessions,
        events=shape.events,
        unmatched_findings=shape.unmatched_findings,
        rng=rng,
        now=now,
        accounts=accounts,
        devices=devices,
        approvers=approvers,
        custodians=custodians,
        requesters=requesters,
    )
    counts |= generate_extras(
        rng=rng, now=now, accounts=accounts, people=people, approvers=approvers, grants=grants
    )
    if shape.ledger_entries:
        counts["ledger_entries"] = append_ledger(shape.ledger_entries, accounts=accounts)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "people": len(people),
        "accounts": len(accounts),
        "devices": len(devices),
        "grants": len(grants),
        **counts,
        "by_role": {
            "approvers": [p.pk for p in approvers],
            "custodians": [p.pk for p in custodians],
            "requesters": [p.pk for p in requesters],
        },
    }
