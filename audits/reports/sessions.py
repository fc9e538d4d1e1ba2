"""The break-glass sessions report: per session who asked, who approved, what was handed over and
returned, what root did inside the window (and outside the declared task), and how it was closed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet

from audits.models import Finding, RootEvent
from audits.reports.base import Report, ReportFilter, Row, in_chunks, iso, may_read, username
from breakglass.choices import TaskRunStatus
from breakglass.models import AccessRequest, Approval, MfaDevice, RootTaskRun, SecretReveal

if TYPE_CHECKING:
    from audits.reports.base import AnyUser

SESSION_COLUMNS = (
    "code",
    "account_id",
    "account_name",
    "environment",
    "status",
    "task",
    "justification",
    "ticket",
    "requester",
    "requested_at",
    "emergency",
    "drill",
    "emergency_acknowledged_by",
    "emergency_acknowledged_at",
    "approvals",
    "approved_at",
    "window_starts",
    "window_ends",
    "handed_over_by",
    "devices_handed_over",
    "checked_out_at",
    "due_at",
    "checked_in_by",
    "checked_in_at",
    "devices_returned",
    "work_done",
    "reveals",
    "task_target",
    "task_runs",
    "task_result",
    "root_event_ids",
    "out_of_scope_event_ids",
    "findings",
    "rotation_confirmed_by",
    "rotation_confirmed_at",
    "review_note",
    "closed_at",
)


def sessions_for_report(
    *, user: AnyUser | None, filters: ReportFilter | None = None
) -> QuerySet[AccessRequest]:
    """Sessions oldest first (by requested window), with everything their rows read loaded per chunk.

    A period keeps the sessions whose requested window starts inside it.
    """
    if not may_read(user):
        return AccessRequest.objects.none()
    q = Q()
    if filters is not None:
        if filters.since is not None:
            q &= Q(starts_at__gte=filters.since)
        if filters.until is not None:
            q &= Q(starts_at__lte=filters.until)
        if filters.account_id:
            q &= Q(account__account_id=filters.account_id)
        if filters.environment:
            q &= Q(account__environment=filters.environment)
        if filters.person:
            q &= Q(requester__username=filters.person)
        if filters.status:
            q &= Q(status=filters.status)
    return (
        AccessRequest.objects.filter(q)
        .select_related(
            "account",
            "requester",
            "handed_over_by",
            "checked_in_by",
            "rotation_confirmed_by",
            "emergency_acknowledged_by",
        )
        .prefetch_related(
            Prefetch(
                "approvals", queryset=Approval.objects.select_related("approver").order_by("created_at")
            ),
            Prefetch("devices", queryset=MfaDevice.objects.order_by("serial_number")),
            Prefetch("reveals", queryset=SecretReveal.objects.select_related("user").order_by("created_at")),
            Prefetch("findings", queryset=Finding.objects.only("id", "code", "session_id").order_by("code")),
            Prefetch("task_runs", queryset=RootTaskRun.objects.select_related("run_by")),
        )
        .order_by("starts_at", "pk")
    )


def root_events_of(sessions: list[AccessRequest]) -> dict[int, list[tuple[str, bool | None]]]:
    """(event id, in scope) of the root events of a chunk of sessions, oldest first, in one query.

    Read as tuples, not prefetched as model instances: a session can hold hundreds of root events
    (a busy check-out, a flood matched to one window), and a chunk of 500 sessions' events as model
    instances took about 110 MB at 100 events a session (bench/reports_benchmark.py).
    """
    events: dict[int, list[tuple[str, bool | None]]] = defaultdict(list)
    found = (
        RootEvent.objects.filter(session__in=[session.pk for session in sessions])
        .order_by("event_time", "pk")
        .values_list("session_id", "event_id", "in_scope")
    )
    for session_id, event_id, in_scope in found.iterator(chunk_size=10_000):
        events[session_id].append((event_id, in_scope))
    return events


def session_row(session: AccessRequest, events: list[tuple[str, bool | None]]) -> Row:
    """One session as a report row; ``events`` are its root events from :func:`root_events_of`."""
    devices = [f"{device.serial_number} ({device.label})" for device in session.devices.all()]
    return {
        "code": session.code,
        "account_id": session.account.account_id,
        "account_name": session.account.name,
        "environment": session.account.environment,
        "status": session.status,
        "task": session.task_title,
        "justification": session.justification,
        "ticket": session.ticket_reference,
        "requester": username(session.requester),
        "requested_at": iso(session.created_at),
        "emergency": session.emergency,
        # A scheduled drill (breakglass.drills), so that it is not mistaken for real use.
        "drill": session.is_drill,
        "emergency_acknowledged_by": username(session.emergency_acknowledged_by),
        "emergency_acknowledged_at": iso(session.emergency_acknowledged_at),
        "approvals": [
            f"{username(approval.approver)} {approval.decision} at {iso(approval.created_at)}"
            for approval in session.approvals.all()
        ],
        "approved_at": iso(session.approved_at),
        "window_starts": iso(session.starts_at),
        "window_ends": iso(session.window_ends_at),
        "handed_over_by": username(session.handed_over_by),
        # Every device goes out with the hand-over and comes back with the check-in.
        "devices_handed_over": devices if session.handed_over_at else [],
        "checked_out_at": iso(session.checked_out_at),
        "due_at": iso(session.due_at),
        "checked_in_by": username(session.checked_in_by),
        "checked_in_at": iso(session.checked_in_at),
        "devices_returned": devices if session.checked_in_at else [],
        "work_done": session.work_done,
        "reveals": [
            f"{username(reveal.user)} at {iso(reveal.created_at)}" for reveal in session.reveals.all()
        ],
        # An AssumeRoot session: what it acted on, each run the portal made, and what the task found
        # or did (the successful run's result: the deleted credentials, the removed policy).
        "task_target": session.task_bucket_name or session.task_queue_url,
        "task_runs": [_task_run_text(run) for run in session.task_runs.all()],
        "task_result": next(
            (run.found for run in session.task_runs.all() if run.status == TaskRunStatus.SUCCEEDED), None
        ),
        "root_event_ids": [event_id for event_id, _ in events],
        "out_of_scope_event_ids": [event_id for event_id, in_scope in events if in_scope is False],
        "findings": [finding.code for finding in session.findings.all()],
        "rotation_confirmed_by": username(session.rotation_confirmed_by),
        "rotation_confirmed_at": iso(session.rotation_confirmed_at),
        "review_note": session.review_note,
        "closed_at": iso(session.closed_at),
    }


def _task_run_text(run: RootTaskRun) -> str:
    key = f", AssumeRoot key {run.access_key_id}" if run.access_key_id else ""
    why = f": {run.error}" if run.error else ""
    return f"{run.status} at {iso(run.finished_at or run.started_at)} by {username(run.run_by)}{key}{why}"


def session_rows(*, user: AnyUser | None, filters: ReportFilter | None = None) -> Iterator[Row]:
    for chunk in in_chunks(sessions_for_report(user=user, filters=filters)):
        events = root_events_of(chunk)
        for session in chunk:
            yield session_row(session, events.get(session.pk, []))


def session_count(*, user: AnyUser | None, filters: ReportFilter | None = None) -> int:
    return sessions_for_report(user=user, filters=filters).count()


REPORT = Report(
    name="sessions",
    title="Break-glass sessions",
    columns=SESSION_COLUMNS,
    rows=session_rows,
    count=session_count,
    filter_fields=("since", "until", "account", "environment", "person", "status"),
    # 34 columns: as one table line a session, each column was 8 mm wide, every event id wrapped
    # over six lines and WeasyPrint spent about 0.5 s a session measuring and breaking them
    # (bench/reports_benchmark.py); as a record, about 0.06 s.
    record_heading=("code", "account_id", "account_name", "environment", "status"),
)
