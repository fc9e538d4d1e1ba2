"""The busy half of ``org_generator``: access requests and everything they leave behind (approvals,
transitions, reveals, devices handed over), root events, findings and a chained ledger."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

# Rows sent to the database at a time.
BATCH = 5_000
# Share of root events matched to a checked-out session; the rest are unmatched (unapproved use).
MATCHED_SHARE = 0.8
DEVICES_PER_ACCOUNT = 2


def bulk(model: Any, rows: list[Any]) -> list[Any]:
    from django.db import transaction

    made: list[Any] = []
    with transaction.atomic():
        for first in range(0, len(rows), BATCH):
            made.extend(model.objects.bulk_create(rows[first : first + BATCH]))
    return made


def copy_rows(table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> int:
    """Stream ``rows`` into ``table`` with PostgreSQL COPY; returns how many."""
    from django.db import connection, transaction

    written = 0
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


# Statuses roughly as an organization accumulates them: most sessions closed.
STATUS_WEIGHTS = {
    "closed": 70,
    "returned": 5,
    "approved": 3,
    "pending": 3,
    "denied": 6,
    "cancelled": 5,
    "expired": 6,
    "revoked": 2,
}


def _request(
    index: int,
    status: str,
    *,
    account: Any,
    requester: Any,
    starts: datetime,
    rng: random.Random,
    approvers: list[Any],
    custodians: list[Any],
) -> Any:
    from breakglass.choices import RequestStatus
    from breakglass.models import AccessRequest

    out = status in (RequestStatus.ACTIVE, RequestStatus.RETURNED, RequestStatus.CLOSED)
    emergency = rng.random() < 0.05
    request = AccessRequest(
        code=f"BG-{index + 1:06d}",
        requester=requester,
        account=account,
        root_task="close_account" if index % 7 == 0 else "other",
        other_task="" if index % 7 == 0 else "Restore an S3 bucket policy that locked everyone out",
        justification=f"Incident INC-{index:06d}: the bucket policy denies every principal but root.",
        ticket_reference=f"INC-{index:06d}",
        starts_at=starts,
        duration_minutes=60,
        status=status,
        emergency=emergency,
    )
    if status not in (RequestStatus.PENDING, RequestStatus.DENIED, RequestStatus.CANCELLED):
        request.approved_at = starts - timedelta(minutes=10)
    if emergency:
        request.emergency_acknowledged_at = starts + timedelta(minutes=20)
        request.emergency_acknowledged_by = approvers[index % len(approvers)]
    if out:
        request.handed_over_by = custodians[index % len(custodians)]
        request.handed_over_at = starts
        request.checked_out_at = starts
        request.due_at = starts + timedelta(minutes=60)
    if status in (RequestStatus.RETURNED, RequestStatus.CLOSED):
        request.checked_in_at = starts + timedelta(minutes=45)
        request.checked_in_by = custodians[(index + 1) % len(custodians)]
        request.work_done = "Replaced the bucket policy; verified access from the admin role."
        request.return_envelope_number = f"ENV-{index:06d}"
    if status == RequestStatus.CLOSED:
        request.rotation_confirmed_at = starts + timedelta(hours=2)
        request.rotation_confirmed_by = custodians[(index + 2) % len(custodians)]
        request.review_note = "Reviewed against the ticket; actions within the declared task."
        request.closed_at = starts + timedelta(hours=3)
    return request


def _parties(
    statuses: list[str], *, rng: random.Random, accounts: int, requesters: int
) -> Iterator[tuple[str, int, int]]:
    """Per request its status, account and requester (indices). An active one takes the account
    counted back from the newest (one check-out per account); a pending one a (requester, account)
    pair no other pending request has (one pending request per person and account, a constraint
    that 300 pending requests among 60,000 pairs would otherwise hit by chance)."""
    from breakglass.choices import RequestStatus

    pending: set[tuple[int, int]] = set()
    sessions = len(statuses)
    for index, status in enumerate(statuses):
        if status == RequestStatus.ACTIVE:
            account, requester = (sessions - 1 - index) % accounts, rng.randrange(requesters)
        else:
            account, requester = rng.randrange(accounts), rng.randrange(requesters)
            while status == RequestStatus.PENDING and (requester, account) in pending:
                account, requester = rng.randrange(accounts), rng.randrange(requesters)
        if status == RequestStatus.PENDING:
            pending.add((requester, account))
        yield status, account, requester


def generate_sessions(
    *,
    sessions: int,
    events: int,
    unmatched_findings: int,
    rng: random.Random,
    now: datetime,
    accounts: list[Any],
    devices: list[Any],
    approvers: list[Any],
    custodians: list[Any],
    requesters: list[Any],
) -> dict[str, int]:
    from breakglass.choices import Decision, RequestStatus
    from breakglass.models import AccessRequest, Approval, SecretReveal, Transition

    year_ago = now - timedelta(days=365)
    statuses = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()), k=sessions)
    # One active check-out per account at most (a constraint): the newest sessions of some accounts.
    for index in range(min(len(accounts) // 4, sessions)):
        statuses[sessions - 1 - index] = RequestStatus.ACTIVE
    step = timedelta(days=365) / max(sessions, 1)
    requests = bulk(
        AccessRequest,
        [
            _request(
                index,
                status,
                account=accounts[account],
                requester=requesters[requester],
                starts=year_ago + step * index,
                rng=rng,
                approvers=approvers,
                custodians=custodians,
            )
            for index, (status, account, requester) in enumerate(
                _parties(statuses, rng=rng, accounts=len(accounts), requesters=len(requesters))
            )
        ],
    )
    account_index = {account.pk: index for index, account in enumerate(accounts)}
    approvals, transitions, reveals, handed = [], [], [], []
    for request in requests:
        deciders = [a for a in rng.sample(approvers, 3) if a.pk != request.requester_id][:2]
        if request.approved_at is not None or request.status == RequestStatus.DENIED:
            decision = Decision.DENY if request.status == RequestStatus.DENIED else Decision.APPROVE
            for approver in deciders[: 1 if decision == Decision.DENY else 2]:
                approvals.append(
                    Approval(request=request, approver=approver, requester_id=request.requester_id,
                             decision=decision, comment="Matches the incident ticket.")
                )  # fmt: skip
        path = [RequestStatus.PENDING]
        if request.approved_at is not None:
            path.append(RequestStatus.APPROVED)
        if request.checked_out_at is not None:
            path.append(RequestStatus.ACTIVE)
        if request.checked_in_at is not None:
            path.append(RequestStatus.RETURNED)
        if request.status not in path:
            path.append(request.status)
        previous = ""
        for to_status in path:
            transitions.append(
                Transition(
                    request=request, from_status=previous, to_status=to_status, actor=request.requester
                )
            )
            previous = to_status
        if request.checked_out_at is not None:
            reveals.append(
                SecretReveal(request=request, user=request.requester, http_request_id=uuid.uuid4().hex)
            )
            first_device = account_index[request.account_id] * DEVICES_PER_ACCOUNT
            for offset in range(DEVICES_PER_ACCOUNT):
                handed.append(
                    AccessRequest.devices.through(
                        accessrequest_id=request.pk, mfadevice_id=devices[first_device + offset].pk
                    )
                )
    bulk(Approval, approvals)
    bulk(Transition, transitions)
    bulk(SecretReveal, reveals)
    bulk(AccessRequest.devices.through, handed)
    counts = {
        "sessions": len(requests),
        "approvals": len(approvals),
        "transitions": len(transitions),
        "reveals": len(reveals),
    }
    counts.update(
        _events_and_findings(
            events=events,
            unmatched_findings=unmatched_findings,
            rng=rng,
            now=now,
            accounts=accounts,
            requests=requests,
        )
    )
    return counts


def _events_and_findings(
    *,
    events: int,
    unmatched_findings: int,
    rng: random.Random,
    now: datetime,
    accounts: list[Any],
    requests: list[Any],
) -> dict[str, int]:
    from django.db import connection

    from audits.choices import FindingKind, FindingStatus, Severity
    from audits.models import Finding, RootEvent

    year_ago = now - timedelta(days=365)
    by_pk = {account.pk: account for account in accounts}
    checked_out = [r for r in requests if r.checked_out_at is not None]
    matched = int(events * MATCHED_SHARE) if checked_out else 0
    table = RootEvent._meta.db_table
    columns = (
        "uuid", "created_at", "updated_at", "event_id", "event_id_is_digest", "aws_account_id", "region",
        "event_time", "event_name", "event_source", "event_type", "is_service_event", "mfa_used",
        "login_success", "succeeded", "access_key_id", "source_ip", "user_agent", "record_finding_kinds",
        "assume_root_caller", "session_id", "in_scope", "raw",
    )  # fmt: skip
    names = (
        ("s3.amazonaws.com", "PutBucketPolicy"),
        ("iam.amazonaws.com", "ListUsers"),
        ("signin.amazonaws.com", "ConsoleLogin"),
    )

    def event_rows() -> Iterator[tuple[Any, ...]]:
        for index in range(events):
            if index < matched:
                session = checked_out[index % len(checked_out)]
                account_id = by_pk[session.account_id].account_id
                moment = session.checked_out_at + timedelta(seconds=(index // len(checked_out)) % 2700)
                in_scope: bool | None = index % 50 != 0
                session_id: int | None = session.pk
            else:
                account_id = accounts[index % len(accounts)].account_id
                moment = year_ago + timedelta(seconds=(index * 31_536_000 // max(events, 1)))
                in_scope, session_id = None, None
            source, name = names[index % len(names)]
            yield (
                uuid.uuid4(), now, now, f"{index:08d}-{rng.getrandbits(64):016x}", False, account_id,
                "us-east-1", moment, name, source, "AwsApiCall", False, True, None, True, "ASIAROOTCONSOLE",
                "198.51.100.7", "console.amazonaws.com", "[]", "", session_id, in_scope,
                '{"eventVersion": "1.08"}',
            )  # fmt: skip

    stored = copy_rows(table, columns, event_rows())
    # One finding per tenth checked-out session (out-of-scope use, linked to its events), and the
    # unmatched events split into ``unmatched_findings`` groups of unapproved use.
    findings = [
        Finding(
            code=f"F-{n + 1:07d}",
            kind=FindingKind.ROOT_ACTIVITY_OUTSIDE_SCOPE,
            severity=Severity.HIGH,
            status=FindingStatus.RESOLVED,
            dedupe_key=f"scope:{session.code}",
            aws_account_id=by_pk[session.account_id].account_id,
            account_id=session.account_id,
            session=session,
            first_seen=session.checked_out_at,
            last_seen=session.checked_out_at,
            summary="Root acted outside the declared task.",
        )
        for n, session in enumerate(checked_out[::10])
    ]
    scoped = len(findings)
    unmatched = max(events - matched, 0)
    groups = min(unmatched_findings, unmatched)
    per_group = max(1, -(-unmatched // groups)) if groups else 1
    severities = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
    for group in range(groups):
        account = accounts[group % len(accounts)]
        seen = year_ago + timedelta(seconds=group * 31_536_000 // max(groups, 1))
        findings.append(
            Finding(
                code=f"F-{len(findings) + 1:07d}",
                kind=FindingKind.UNAPPROVED_ROOT_USAGE,
                severity=severities[group % len(severities)] if group % 3 else Severity.CRITICAL,
                status=FindingStatus.OPEN if group % 4 else FindingStatus.RESOLVED,
                dedupe_key=f"unapproved:{group}",
                aws_account_id=account.account_id,
                account=account,
                first_seen=seen,
                last_seen=seen,
                summary="Root used without an approved check-out.",
            )
        )
    findings = bulk(Finding, findings)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, session_id FROM {table} WHERE session_id IS NULL OR in_scope = false ORDER BY id"
        )
        pairs = cursor.fetchall()
    by_session = {f.session_id: f.pk for f in findings[:scoped]}
    unmatched_findings = [f.pk for f in findings[scoped:]]

    def links() -> Iterator[tuple[int, int]]:
        seen = 0
        for event_pk, session_id in pairs:
            if session_id is None:
                if unmatched_findings:
                    yield unmatched_findings[min(seen // per_group, len(unmatched_findings) - 1)], event_pk
                seen += 1
            elif session_id in by_session:
                yield by_session[session_id], event_pk

    linked = copy_rows(Finding.events.through._meta.db_table, ("finding_id", "rootevent_id"), links())
    return {"root_events": stored, "findings": len(findings), "finding_events": linked}


def append_ledger(count: int, *, accounts: list[Any], batch: int = 5_000) -> int:
    """``count`` chained entries, hashed exactly as ``ledger.services.record`` hashes them, in bulk."""
    from django.db import transaction
    from django.utils import timezone

    from ledger import services
    from ledger.models import LedgerEntry, LedgerHead

    actions = ("request.created", "request.approved", "request.checked_out", "notification.delivered",
               "finding.raised", "request.checked_in")  # fmt: skip
    first = services.record(actor=None, action="bench.generated", data={"n": 0})
    previous_hash, sequence = first.hash, first.sequence
    target = sequence + count - 1
    while sequence < target:
        entries = []
        for _ in range(min(batch, target - sequence)):
            sequence += 1
            account = accounts[sequence % len(accounts)]
            entry = LedgerEntry(
                sequence=sequence,
                created_at=timezone.now(),
                actor_name=services.SYSTEM_ACTOR_NAME,
                request_id="-",
                action=actions[sequence % len(actions)],
                target_type="account",
                target_id=str(account.uuid),
                target_repr=account.name,
                data={"account_id": account.account_id, "n": sequence},
                previous_hash=previous_hash,
                key_id=first.key_id,
            )
            entry.hash = services.hash_of(entry)
            previous_hash = entry.hash
            entries.append(entry)
        with transaction.atomic():
            LedgerEntry.objects.bulk_create(entries)
    LedgerHead.objects.filter(id=1).update(last_sequence=sequence, last_hash=previous_hash)
    return count
