"""Drills seen by reconciliation: a drill's root sign-in, matched to its check-out, proves its alarm
chain (issue 9, item 4). Being matched, it raises no ``unapproved_root_usage``; this hands the first
successful root ``ConsoleLogin`` of each drill to ``breakglass.drills.drill_observe``, which stores
the delays and sends the "drill observed" alert whose delivery closes the measurement."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from audits.models import RootEvent
from breakglass import drills
from breakglass.models import Drill

if TYPE_CHECKING:
    from breakglass.models import AccessRequest

__all__ = ["observe_drills"]


def observe_drills(sessions: Iterable[AccessRequest], events: Iterable[RootEvent], *, now: datetime) -> int:
    """Hand each drill's first matched successful root sign-in to the drill, once. ``events`` are
    one account's, in time order, already matched. Returns how many drills were observed now."""
    drill_ids = {session.pk for session in sessions if session.is_drill}
    if not drill_ids:
        return 0
    first: dict[int, RootEvent] = {}
    for event in events:
        if (
            event.session_id in drill_ids
            and not event.is_service_event
            and event.event_name == "ConsoleLogin"
            and event.login_success is True
        ):
            first.setdefault(event.session_id, event)
    waiting = set(
        Drill.objects.filter(request_id__in=list(first), signed_in_at__isnull=True).values_list(
            "request_id", flat=True
        )
    )
    observed = 0
    for request_id in sorted(waiting):
        event = first[request_id]
        if drills.drill_observe(
            request_id=request_id,
            event_id=event.event_id,
            signed_in_at=event.event_time,
            ingested_at=event.created_at,
            now=now,
        ):
            observed += 1
    return observed
