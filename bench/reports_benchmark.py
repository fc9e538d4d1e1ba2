#!/usr/bin/env python3
"""Time, peak memory and queries of the sessions and activity reports over a large organization
(issue 9, "Done when": 10,000 sessions and 1,000,000 root events, peak memory under 300 MB).

    .venv/bin/python scripts/testenv.py run -- .venv/bin/python bench/reports_benchmark.py \
        [--sessions N] [--events M] [--pdf-sessions P] [--bundle-sessions B] [--skip-generate]
        [--only NAME ...]

On the database of ``DATABASE_URL`` (PostgreSQL: ``testenv.py run`` gives a private one, migrated
here) it generates, in bulk (``bulk_create`` and PostgreSQL ``COPY``, not the services, so it takes
minutes rather than hours), an organization whose relations are those the services make: accounts
with approvers, custodians and MFA devices; users with grants; N access requests in every status,
with approvals, transitions, reveals, devices handed over and returned; M root events, most matched
to a checked-out session (some out of scope), the rest unmatched; findings linked to sessions and
events. It prints how long that took.

Then, each in a fresh process (so the peak RSS is that export's own), it exports through
``audits.reports.export_start`` (the code the pages, the export jobs and ``manage.py export_report``
use) to a file: the sessions report and the activity report as CSV and as JSON over everything, the
sessions report as PDF over a period holding about P sessions (laid out in parts of
``audits.reports.pdf.PDF_PART_ROWS`` sessions), and an evidence bundle (``write_bundle``, what the
export job runs) over every session and root event, or over a period of about B sessions.
Per export it prints rows, bytes, wall seconds, rows/s, the child's peak RSS
(``VmHWM``, see ``_maxrss_mb``) and how many SQL queries it ran (counted by a
``connection.execute_wrapper``, which keeps nothing).

A benchmark prints figures; it is not a test. It exits 1 when an export's peak RSS is over the
300 MB target.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import platform
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_PEAK_MB = 300
ACCOUNTS = 200
PEOPLE = 300
DEVICES_PER_ACCOUNT = 2
# Rows sent to the database at a time while generating.
BATCH = 5_000
# Share of root events matched to a checked-out session; the rest are unmatched (unapproved use).
MATCHED_SHARE = 0.8
# Unmatched root events are grouped into one finding per this many.
EVENTS_PER_UNMATCHED_FINDING = 100
EXPORTS = ("sessions-csv", "sessions-json", "activity-csv", "activity-json", "sessions-pdf", "evidence-zip")


# --- set-up ---------------------------------------------------------------------------------------


def _setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (run through scripts/testenv.py run)")
    os.environ["DJANGO_DEBUG"] = "true"  # no secret key or hosts needed; DEBUG itself is turned off below
    os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="reports-bench-var-"))
    if not os.environ.get("PORTAL_ENCRYPTION_KEYS"):
        os.environ["PORTAL_ENCRYPTION_KEYS"] = "bench:" + base64.b64encode(os.urandom(32)).decode()
    if not os.environ.get("PORTAL_EVIDENCE_SIGNING_KEY"):
        os.environ["PORTAL_EVIDENCE_SIGNING_KEY"] = "bench:" + base64.b64encode(os.urandom(32)).decode()
    import logging

    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # DEBUG keeps every SQL statement in memory
    logging.disable(logging.WARNING)


def _maxrss_mb() -> float:
    """This process's peak resident memory. On Linux, ``VmHWM`` of ``/proc/self/status``: the
    ``ru_maxrss`` of a child started by fork and exec also counts the parent's memory copied at the
    fork (the kernel carries the high-water mark across exec), so after generating it would report
    the generator's peak, not the export's."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    # macOS reports bytes, other systems kilobytes.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


# --- generation -----------------------------------------------------------------------------------


def _bulk(model: Any, rows: list[Any]) -> list[Any]:
    from django.db import transaction

    made: list[Any] = []
    with transaction.atomic():
        for first in range(0, len(rows), BATCH):
            made.extend(model.objects.bulk_create(rows[first : first + BATCH]))
    return made


def _copy(table: str, columns: tuple[str, ...], rows: Any) -> int:
    """Stream ``rows`` (tuples) into ``table`` with PostgreSQL COPY; returns how many."""
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


def generate(*, sessions: int, events: int, seed: int = 9) -> dict[str, int]:
    """The organization, in bulk; returns how many rows of each kind."""
    import uuid

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from audits.choices import FindingKind, FindingStatus, Severity
    from audits.models import Finding, RootEvent
    from breakglass.choices import CustodyState, Decision, Environment, MfaDeviceKind, RequestStatus
    from breakglass.models import (
        AccessRequest,
        Approval,
        AwsAccount,
        Grant,
        MfaDevice,
        MfaDeviceAssignment,
        SecretReveal,
        Transition,
    )

    rng = random.Random(seed)
    now = timezone.now()
    year_ago = now - timedelta(days=365)
    user_model = get_user_model()
    people = _bulk(
        user_model,
        [
            user_model(username=f"person{i:04d}", email=f"person{i:04d}@example.com", password="!")
            for i in range(PEOPLE)
        ],
    )
    approvers, custodians, requesters = people[:40], people[40:80], people[80:]
    environments = list(Environment.values)
    accounts = _bulk(
        AwsAccount,
        [
            AwsAccount(
                account_id=f"{100000000000 + i * 7919:012d}",
                name=f"account-{i:03d}",
                environment=environments[i % len(environments)],
                root_email=f"root+{i:03d}@example.com",
                approval_quorum=2,
            )
            for i in range(ACCOUNTS)
        ],
    )
    approver_links, custodian_links = [], []
    for index, account in enumerate(accounts):
        for person in {approvers[(index + k) % len(approvers)] for k in range(4)}:
            approver_links.append(AwsAccount.approvers.through(awsaccount_id=account.pk, user_id=person.pk))
        for person in {custodians[(index + k) % len(custodians)] for k in range(2)}:
            custodian_links.append(AwsAccount.custodians.through(awsaccount_id=account.pk, user_id=person.pk))
    _bulk(AwsAccount.approvers.through, approver_links)
    _bulk(AwsAccount.custodians.through, custodian_links)
    devices = _bulk(
        MfaDevice,
        [
            MfaDevice(
                kind=MfaDeviceKind.FIDO,
                label=f"key {i}",
                serial_number=f"SN-{i:06d}",
                storage_location="safe A",
                custody_state=CustodyState.IN_SAFE,
            )
            for i in range(ACCOUNTS * DEVICES_PER_ACCOUNT)
        ],
    )
    _bulk(
        MfaDeviceAssignment,
        [
            MfaDeviceAssignment(
                device=device, account=accounts[i // DEVICES_PER_ACCOUNT], device_kind=device.kind
            )
            for i, device in enumerate(devices)
        ],
    )
    grants = []
    for index, person in enumerate(requesters):
        for k in range(3):
            grants.append(
                Grant(
                    user=person,
                    account=accounts[(index * 3 + k) % ACCOUNTS],
                    granted_by=approvers[index % len(approvers)],
                    expires_at=now + timedelta(days=90),
                    last_reviewed_at=now - timedelta(days=30),
                    last_reviewed_by=approvers[(index + 1) % len(approvers)],
                )
            )
    _bulk(Grant, grants)

    # Statuses roughly as an organization accumulates them: most sessions closed.
    weights = {
        RequestStatus.CLOSED: 70,
        RequestStatus.RETURNED: 5,
        RequestStatus.APPROVED: 3,
        RequestStatus.PENDING: 3,
        RequestStatus.DENIED: 6,
        RequestStatus.CANCELLED: 5,
        RequestStatus.EXPIRED: 6,
        RequestStatus.REVOKED: 2,
    }
    statuses = rng.choices(list(weights), weights=list(weights.values()), k=sessions)
    # One active check-out per account at most (a constraint): the newest sessions of some accounts.
    for index in range(min(ACCOUNTS // 4, sessions)):
        statuses[sessions - 1 - index] = RequestStatus.ACTIVE
    step = timedelta(days=365) / max(sessions, 1)
    requests = []
    for index, status in enumerate(statuses):
        account_index = (
            (sessions - 1 - index) % ACCOUNTS if status == RequestStatus.ACTIVE else rng.randrange(ACCOUNTS)
        )
        starts = year_ago + step * index
        out = status in (RequestStatus.ACTIVE, RequestStatus.RETURNED, RequestStatus.CLOSED)
        emergency = rng.random() < 0.05
        request = AccessRequest(
            code=f"BG-{index + 1:06d}",
            requester=requesters[rng.randrange(len(requesters))],
            account=accounts[account_index],
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
        requests.append(request)
    requests = _bulk(AccessRequest, requests)

    approvals, transitions, reveals, handed = [], [], [], []
    for request in requests:
        deciders = [a for a in rng.sample(approvers, 3) if a.pk != request.requester_id][:2]
        decided = request.approved_at is not None or request.status == RequestStatus.DENIED
        if decided:
            decision = Decision.DENY if request.status == RequestStatus.DENIED else Decision.APPROVE
            for approver in deciders[: 1 if decision == Decision.DENY else 2]:
                approvals.append(
                    Approval(
                        request=request,
                        approver=approver,
                        requester_id=request.requester_id,
                        decision=decision,
                        comment="Matches the incident ticket.",
                    )
                )
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
            first_device = accounts.index(request.account) * DEVICES_PER_ACCOUNT
            for offset in range(DEVICES_PER_ACCOUNT):
                handed.append(
                    AccessRequest.devices.through(
                        accessrequest_id=request.pk, mfadevice_id=devices[first_device + offset].pk
                    )
                )
    _bulk(Approval, approvals)
    _bulk(Transition, transitions)
    _bulk(SecretReveal, reveals)
    _bulk(AccessRequest.devices.through, handed)

    # Root events: matched ones inside their session's window, unmatched ones spread over the year.
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

    def event_rows() -> Any:
        for index in range(events):
            if index < matched:
                session = checked_out[index % len(checked_out)]
                account_id = session.account.account_id
                moment = session.checked_out_at + timedelta(seconds=(index // len(checked_out)) % 2700)
                in_scope = index % 50 != 0
                session_id: int | None = session.pk
            else:
                account_id = accounts[index % ACCOUNTS].account_id
                moment = year_ago + timedelta(seconds=(index * 31_536_000 // max(events, 1)))
                in_scope, session_id = None, None
            source, name = names[index % len(names)]
            yield (
                uuid.uuid4(), now, now, f"{index:08d}-{rng.getrandbits(64):016x}", False, account_id,
                "us-east-1", moment, name, source, "AwsApiCall", False, True, None, True, "ASIAROOTCONSOLE",
                "198.51.100.7", "console.amazonaws.com", "[]", "", session_id, in_scope,
                '{"eventVersion": "1.08"}',
            )  # fmt: skip

    stored = _copy(table, columns, event_rows())
    # Findings: one per session with out-of-scope events (linked to them), one per group of
    # unmatched events (unapproved use), linked through the M2M table.
    findings = []
    for session in checked_out[::10]:
        findings.append(
            Finding(
                code=f"F-{len(findings) + 1:06d}",
                kind=FindingKind.ROOT_ACTIVITY_OUTSIDE_SCOPE,
                severity=Severity.HIGH,
                status=FindingStatus.RESOLVED,
                dedupe_key=f"scope:{session.code}",
                aws_account_id=session.account.account_id,
                account=session.account,
                session=session,
                first_seen=session.checked_out_at,
                last_seen=session.checked_out_at,
                summary="Root acted outside the declared task.",
            )
        )
    scoped = len(findings)
    for group in range(0, max(events - matched, 0), EVENTS_PER_UNMATCHED_FINDING):
        account = accounts[group % ACCOUNTS]
        findings.append(
            Finding(
                code=f"F-{len(findings) + 1:06d}",
                kind=FindingKind.UNAPPROVED_ROOT_USAGE,
                severity=Severity.CRITICAL,
                dedupe_key=f"unapproved:{group}",
                aws_account_id=account.account_id,
                account=account,
                first_seen=year_ago,
                last_seen=now,
                summary="Root used without an approved check-out.",
            )
        )
    findings = _bulk(Finding, findings)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, session_id FROM {table} WHERE session_id IS NULL OR in_scope = false ORDER BY id"
        )
        pairs_rows = cursor.fetchall()
    by_session = {f.session_id: f.pk for f in findings[:scoped]}
    unmatched_findings = [f.pk for f in findings[scoped:]]
    links = []
    unmatched_seen = 0
    for event_pk, session_id in pairs_rows:
        if session_id is None:
            if unmatched_findings:
                links.append(
                    (
                        unmatched_findings[
                            min(unmatched_seen // EVENTS_PER_UNMATCHED_FINDING, len(unmatched_findings) - 1)
                        ],
                        event_pk,
                    )
                )
            unmatched_seen += 1
        elif session_id in by_session:
            links.append((by_session[session_id], event_pk))
    through = Finding.events.through._meta.db_table
    _copy(through, ("finding_id", "rootevent_id"), iter(links))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "people": len(people),
        "accounts": len(accounts),
        "grants": len(grants),
        "sessions": len(requests),
        "approvals": len(approvals),
        "transitions": len(transitions),
        "reveals": len(reveals),
        "root_events": stored,
        "findings": len(findings),
        "finding_events": len(links),
    }


# --- measuring ------------------------------------------------------------------------------------


def measure(name: str, fmt: str, folder: str, since: str | None, until: str | None) -> dict[str, Any]:
    """In a fresh process: one export to a file, with its figures."""
    _setup_django()
    from django.db import connection

    from audits.reports import ReportFilter, export_start

    queries = 0

    def counted(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    filters = ReportFilter(
        since=datetime.fromisoformat(since) if since else None,
        until=datetime.fromisoformat(until) if until else None,
    )
    path = Path(folder) / f"{name}.{fmt}"
    before = _maxrss_mb()
    wall = time.perf_counter()
    with connection.execute_wrapper(counted):
        if name == "evidence":
            # The bundle the Reports page's job makes: every report (the sessions one also as PDF, laid
            # out in parts), the ledger slice, the controls and the signed manifest. "rows": sessions.
            from audits.evidence import write_bundle
            from audits.reports import REPORTS

            rows = REPORTS["sessions"].count(user=None, filters=filters)
            with path.open("w+b") as out:
                write_bundle(out, user=None, filters=filters)
        else:
            export = export_start(user=None, name=name, fmt=fmt, filters=filters)
            rows = export.count
            if fmt == "pdf":
                with path.open("wb") as binary:
                    export.write_pdf(binary)
            else:
                with path.open("w", encoding="utf-8") as out:
                    for piece in export.text():
                        out.write(piece)
    wall = time.perf_counter() - wall
    size = path.stat().st_size
    path.unlink()
    return {
        "rows": rows,
        "bytes": size,
        "wall": wall,
        "rss_before_mb": before,
        "rss_peak_mb": _maxrss_mb(),
        "queries": queries,
    }


def _in_child(function: Callable[..., Any], *args: Any) -> Any:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def _pdf_period(sessions: int) -> tuple[str, str]:
    """The window-start period of the newest ``sessions`` sessions."""
    from breakglass.models import AccessRequest

    starts = list(AccessRequest.objects.order_by("-starts_at").values_list("starts_at", flat=True)[:sessions])
    return starts[-1].isoformat(), starts[0].isoformat()


def _whole_period() -> tuple[str, str]:
    """From the first root event or session to the last: a bundle needs both ends."""
    from django.db.models import Max, Min

    from audits.models import RootEvent
    from breakglass.models import AccessRequest

    sessions = AccessRequest.objects.aggregate(first=Min("starts_at"), last=Max("starts_at"))
    events = RootEvent.objects.aggregate(first=Min("event_time"), last=Max("event_time"))
    first = min(moment for moment in (sessions["first"], events["first"]) if moment is not None)
    last = max(moment for moment in (sessions["last"], events["last"]) if moment is not None)
    return first.isoformat(), last.isoformat()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000, help="access requests to generate")
    parser.add_argument("--events", type=int, default=1_000_000, help="root events to generate")
    parser.add_argument("--pdf-sessions", type=int, default=500, help="sessions in the PDF's period")
    parser.add_argument(
        "--bundle-sessions",
        type=int,
        default=0,
        help="sessions in the evidence bundle's period (0: every session and root event)",
    )
    parser.add_argument("--skip-generate", action="store_true", help="reuse what the database holds")
    parser.add_argument(
        "--only", nargs="+", choices=EXPORTS, default=list(EXPORTS), help="exports to measure"
    )
    args = parser.parse_args(argv)

    _setup_django()
    from django.core.management import call_command

    from audits.models import RootEvent
    from breakglass.models import AccessRequest

    call_command("migrate", verbosity=0, interactive=False)
    print(f"machine: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs")
    if not args.skip_generate:
        if AccessRequest.objects.exists():
            raise SystemExit("the database already holds sessions: use --skip-generate or a fresh database")
        began = time.perf_counter()
        made = generate(sessions=args.sessions, events=args.events)
        print(
            f"generated in {time.perf_counter() - began:.0f} s: "
            + ", ".join(f"{v:,} {k}" for k, v in made.items())
        )
    held = (AccessRequest.objects.count(), RootEvent.objects.count())
    print(f"database holds {held[0]:,} sessions and {held[1]:,} root events")
    since, until = _pdf_period(args.pdf_sessions)
    bundle_period = _pdf_period(args.bundle_sessions) if args.bundle_sessions else _whole_period()

    over = False
    with tempfile.TemporaryDirectory(prefix="reports-bench-") as folder:
        for item in args.only:
            name, fmt = item.split("-")
            period = (since, until) if fmt == "pdf" else bundle_period if fmt == "zip" else (None, None)
            result = _in_child(measure, name, fmt, folder, *period)
            rows, wall, peak = result["rows"] or 0, result["wall"], result["rss_peak_mb"]
            over |= result["rss_peak_mb"] >= TARGET_PEAK_MB
            print(
                f"{item:14} {rows:>10,} rows {result['bytes'] / 1e6:>9.1f} MB {wall:>8.1f} s "
                f"{rows / max(wall, 1e-9):>9,.0f} rows/s  peak RSS {peak:>4.0f} MB "
                f"(+{peak - result['rss_before_mb']:.0f} after start-up)  "
                f"{result['queries']:,} queries"
            )
    print(f"target: peak RSS under {TARGET_PEAK_MB} MB per export: {'OVER' if over else 'met'}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
