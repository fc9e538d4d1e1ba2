"""Check-out windows: which check-out, if any, holds a root event. Pure: no database.

A check-out's window runs from ``checked_out_at`` minus the grace before to the end of custody plus
the grace after (CloudTrail delivers late). The end of custody is the check-in; for a revoked
session, the revocation (or the check-in, if earlier); an active session's window is open. When
windows overlap, the session that really held the credential at that moment wins, then the later one.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings

from audits.models import RootEvent
from breakglass.choices import RequestStatus
from breakglass.models import AccessRequest
from breakglass.root_tasks import BY_CODE as ROOT_TASKS

__all__ = [
    "KeyMatches",
    "ReconcileConfig",
    "Window",
    "Windows",
    "custody_end",
    "in_scope",
    "match_events",
    "window_of",
]


@dataclass(frozen=True)
class ReconcileConfig:
    """The settings that shape windows and deadlines (see the README's configuration table)."""

    grace_before: timedelta
    grace_after: timedelta
    rotation_overdue: timedelta
    emergency_review: timedelta
    emergency_ack: timedelta

    @classmethod
    def from_settings(cls) -> ReconcileConfig:
        # The defaults and their checks live in portal/settings.py, read from the environment.
        return cls(
            grace_before=timedelta(minutes=settings.PORTAL_RECONCILE_GRACE_BEFORE_MINUTES),
            grace_after=timedelta(minutes=settings.PORTAL_RECONCILE_GRACE_AFTER_MINUTES),
            rotation_overdue=timedelta(hours=settings.PORTAL_ROTATION_OVERDUE_HOURS),
            emergency_review=timedelta(hours=settings.PORTAL_EMERGENCY_REVIEW_HOURS),
            emergency_ack=timedelta(minutes=settings.PORTAL_EMERGENCY_ACK_MINUTES),
        )


@dataclass
class Window:
    """The time a check-out covers, with and without its grace periods."""

    session: AccessRequest
    # With the grace periods; ``end`` None means open (an active check-out).
    start: datetime
    end: datetime | None
    # Custody itself, to prefer the session that really held the credential when windows overlap.
    held_from: datetime
    held_until: datetime | None


def custody_end(session: AccessRequest) -> datetime | None:
    """When the holder stopped holding the credential; None while it is out.

    ``revoked_at`` is the moment of the revocation, annotated on the session by the loader.
    """
    revoked_at: datetime | None = getattr(session, "revoked_at", None)
    ended = session.checked_in_at
    if session.status == RequestStatus.REVOKED and revoked_at is not None:
        # Authority ends with the revocation, even if the devices come back later.
        ended = min(ended, revoked_at) if ended is not None else revoked_at
    if ended is None and session.status != RequestStatus.ACTIVE:
        # Not active, yet never returned or revoked (data repaired by hand): the due time is the
        # most that was ever approved.
        ended = session.due_at
    return ended


def window_of(session: AccessRequest, config: ReconcileConfig) -> Window:
    """The window of a session that was checked out."""
    assert session.checked_out_at is not None
    held_until = custody_end(session)
    return Window(
        session=session,
        start=session.checked_out_at - config.grace_before,
        end=held_until + config.grace_after if held_until is not None else None,
        held_from=session.checked_out_at,
        held_until=held_until,
    )


class Windows:
    """Windows of one account, searchable by time without comparing every event with every one."""

    def __init__(self, windows: list[Window]) -> None:
        self.windows = sorted(windows, key=lambda w: (w.start, w.session.pk))
        self.starts = [w.start for w in self.windows]
        # Latest end among windows[0..i]: scanning back from a time can stop once it is passed,
        # whatever the overlaps.
        self.reach: list[datetime | None] = []
        furthest: datetime | None = datetime.min.replace(tzinfo=UTC)
        for w in self.windows:
            if furthest is not None:
                furthest = None if w.end is None else max(furthest, w.end)
            self.reach.append(furthest)

    def match(self, moment: datetime) -> Window | None:
        """The window holding ``moment``; inside custody beats inside a grace period, then the later."""
        best: Window | None = None
        best_rank: tuple[float, float] | None = None
        index = bisect.bisect_right(self.starts, moment) - 1
        while index >= 0:
            reach = self.reach[index]
            if reach is not None and reach < moment:
                break
            w = self.windows[index]
            if w.end is None or moment <= w.end:
                rank = (_distance(moment, w.held_from, w.held_until), -w.held_from.timestamp())
                if best_rank is None or rank < best_rank:
                    best, best_rank = w, rank
            index -= 1
        return best


def _distance(moment: datetime, start: datetime, end: datetime | None) -> float:
    if moment < start:
        return (start - moment).total_seconds()
    if end is not None and moment > end:
        return (moment - end).total_seconds()
    return 0.0


@dataclass(frozen=True)
class KeyMatches:
    """The AssumeRoot keys the portal itself issued for one account (``IssuedRootKey``).

    ``sessions``: a session's key and its session; the member account's records made with it belong
    to that session whatever their time (CloudTrail may deliver them hours later). ``portal``: every
    key the portal issued for the account, the sessions' and its own posture audits'. A record made
    with AssumeRoot credentials whose key is not here was made by someone who called the API directly.
    """

    sessions: Mapping[str, AccessRequest] = field(default_factory=dict)
    portal: frozenset[str] = frozenset()


NO_KEYS = KeyMatches()


def made_with_assume_root(event: RootEvent, keys: KeyMatches = NO_KEYS) -> bool:
    """Whether the record was made with ``sts:AssumeRoot`` credentials (the record says so, or its
    management-account call was joined to it, or the portal issued its key)."""
    return (
        event.via_assume_root
        or bool(event.assume_root_caller)
        or (bool(event.access_key_id) and event.access_key_id in keys.portal)
    )


def in_scope(session: AccessRequest, event_name: str) -> bool | None:
    """Whether the session's declared task needs this action; None for a task this version lacks."""
    task = ROOT_TASKS.get(session.root_task)
    if task is None:
        return None  # a task this version does not know: no judgement rather than a false one
    return event_name in task.expected_actions


def match_events(
    events: list[RootEvent], windows: Windows, *, now: datetime, keys: KeyMatches = NO_KEYS
) -> list[RootEvent]:
    """Set each event's ``session`` and ``in_scope`` from the windows; return those that changed.

    A record made with a session's AssumeRoot key belongs to that session, by the key, whatever its
    time. Any other record made with AssumeRoot credentials is never covered by a window: a check-out
    does not approve credentials the portal did not issue for it. Events a changed window no longer
    covers are unmatched. AWS acting (``AwsServiceEvent``) is never a person's doing, so never
    matched. Nothing is saved: the caller writes the returned events.
    """
    dirty: list[RootEvent] = []
    for event in events:
        session: AccessRequest | None = None
        scope: bool | None = None
        if not event.is_service_event:
            by_key = keys.sessions.get(event.access_key_id) if event.access_key_id else None
            found = (
                None
                if by_key is not None or made_with_assume_root(event, keys)
                else (windows.match(event.event_time))
            )
            session = by_key if by_key is not None else (found.session if found is not None else None)
            if session is not None:
                scope = in_scope(session, event.event_name)
        session_id = session.pk if session is not None else None
        if event.session_id != session_id or event.in_scope != scope:
            event.session = session
            event.in_scope = scope
            event.updated_at = now
            dirty.append(event)
        elif session is not None:
            event.session = session  # the loaded object, for summaries without a query
    return dirty
