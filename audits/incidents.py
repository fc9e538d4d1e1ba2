"""One root event that raised several findings is one incident (issue 11, item 5).

A root sign-in without MFA that also created an access key raises two findings from one record; an
auditor looks at it, and decides on it, once. :func:`group_into_incidents` puts the findings of a
list together when they share a root event (transitively: A and B share one event, B and C another,
all three are one incident). Pure: it reads only the ids of each finding's prefetched events, so a
list page costs no extra query. Triage of an incident is ``audits.services.incident_triage``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Incident:
    """Findings that belong together, in list order. ``anchor`` is the root event (its first shared
    one) that names the incident, or ``None`` for a finding that shares no event with another."""

    findings: list[Any]
    anchor: Any | None

    @property
    def is_group(self) -> bool:
        return self.anchor is not None


def group_into_incidents(findings: Sequence[Any]) -> list[Incident]:
    """Group ``findings`` (each with ``events.all()`` prefetched) by shared root events; an incident
    takes the place of its first finding in the list."""
    parent = list(range(len(findings)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_holder: dict[int, int] = {}
    shared: dict[int, Any] = {}  # group root -> smallest shared event
    for i, finding in enumerate(findings):
        for event in finding.events.all():
            j = first_holder.setdefault(event.pk, i)
            if j != i:
                parent[root(i)] = root(j)
                shared[event.pk] = event
    groups: dict[int, list[int]] = {}
    for i in range(len(findings)):
        groups.setdefault(root(i), []).append(i)
    anchors: dict[int, Any] = {}
    for pk in sorted(shared):
        anchors.setdefault(root(first_holder[pk]), shared[pk])
    return [
        Incident(findings=[findings[i] for i in members], anchor=anchors.get(group_root))
        for group_root, members in sorted(groups.items(), key=lambda item: item[1][0])
    ]
