"""Which findings one account should have, given its loaded rows. Pure: no database.

The findings of DESIGN's table are computed from the account's root events (already matched to
check-outs, ``audits.reconcile.windows``), its check-outs and its root credential, each under a stable
dedupe key; ``audits.reconcile.apply`` compares them with the stored ones.

Findings about lateness (``checkout_overdue``, ``rotation_overdue``, ``emergency_access_unreviewed``)
record a fact about the past: a check-out returned late stays a finding once returned, until a person
triages it. ``emergency_access_unreviewed`` is raised ``PORTAL_EMERGENCY_REVIEW_HOURS`` after an
emergency check-out still without its approvals, not at once: everyone is already notified when the
glass is broken, and approvers need time to review; ``0`` makes every emergency session a finding.
``emergency_unacknowledged`` (critical) is raised ``PORTAL_EMERGENCY_ACK_MINUTES`` after an emergency
check-out that no second person (an approver or custodian) acknowledged: one person alone broke the
glass, so a second must know within minutes; beat reconciles such accounts every minute
(``audits.tasks.reconcile_unacknowledged_emergencies``).

AssumeRoot (issue 12): records made with a session's key are the session's (``windows.KeyMatches``);
the findings a record raises on its own are not raised for an in-scope action the portal itself made
with that key (deleting root's MFA is the approved task, not news). A key the portal did not issue is
``assume_root_unbrokered``; records made with the portal's own posture keys raise nothing.

A failed root ``ConsoleLogin`` is not "root used" (nobody got in): it raises ``root_login_failed``, not
``unapproved_root_usage``. Any other root call counts, failed or not: whoever made it held root
credentials.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from audits.choices import FAILED_LOGIN_BURST_SEVERITY, SEVERITY_BY_KIND, FindingKind
from audits.models import AssumeRootCall, RootEvent
from audits.reconcile.windows import NO_KEYS, KeyMatches, ReconcileConfig, custody_end, made_with_assume_root
from audits.reconcile.wording import (
    assume_root_unbrokered_summary,
    checkout_overdue_summary,
    emergency_unacknowledged_summary,
    emergency_unreviewed_summary,
    failed_logins_summary,
    outside_scope_summary,
    per_event_summary,
    rotation_overdue_summary,
    unapproved_summary,
)
from breakglass.choices import CredentialStorage, RequestStatus
from breakglass.models import AccessRequest, RootCredential

__all__ = [
    "FAILED_LOGIN_BURST",
    "MANAGED_KINDS",
    "PER_EVENT_KINDS",
    "Wanted",
    "dedupe_key",
    "wanted_findings",
]

K = FindingKind

#: Kinds one record raises on its own (``RootEvent.record_finding_kinds``), one finding per event,
#: whether or not a check-out covers it: a root sign-in without MFA is wrong even when approved.
PER_EVENT_KINDS = frozenset(
    {
        K.ROOT_LOGIN_WITHOUT_MFA,
        K.ROOT_ACCESS_KEY_CREATED,
        K.ROOT_CLOUDTRAIL_TAMPERING,
        K.ROOT_PASSWORD_RECOVERY,
        K.ROOT_MFA_CHANGED,
    }
)
#: Failed root sign-ins in one hour from which the hour's finding is ``FAILED_LOGIN_BURST_SEVERITY``.
FAILED_LOGIN_BURST = 5
#: The kinds reconciliation raises and resolves; other kinds (posture checks) are left alone.
MANAGED_KINDS = frozenset(
    {
        K.UNAPPROVED_ROOT_USAGE,
        K.ROOT_LOGIN_FAILED,
        K.ROOT_ACTIVITY_OUTSIDE_SCOPE,
        K.CHECKOUT_OVERDUE,
        K.ROTATION_OVERDUE,
        K.EMERGENCY_ACCESS_UNREVIEWED,
        K.EMERGENCY_UNACKNOWLEDGED,
        K.ASSUME_ROOT_UNBROKERED,
        *PER_EVENT_KINDS,
    }
)


def dedupe_key(kind: str, *parts: str) -> str:
    """``kind:part:...``, the identity of a finding: per event, per account and UTC day or hour, or
    per check-out (by its code). Stable across runs and databases, so re-running never duplicates."""
    return ":".join([FindingKind(kind).value, *parts])


@dataclass
class Wanted:
    """A finding as reconciliation computes it, before it is compared with the stored one."""

    kind: str
    severity: str
    first_seen: datetime
    last_seen: datetime
    summary: str
    events: list[RootEvent] = field(default_factory=list)
    session: AccessRequest | None = None

    @classmethod
    def about_session(
        cls, kind: str, session: AccessRequest, *, first_seen: datetime, last_seen: datetime, summary: str
    ) -> Wanted:
        """A finding about a session that time alone makes true, at its kind's one severity."""
        return cls(
            kind=kind,
            severity=SEVERITY_BY_KIND[kind],
            session=session,
            first_seen=first_seen,
            last_seen=last_seen,
            summary=summary,
        )


def _about_events(
    kind: str,
    events: list[RootEvent],
    summary: str,
    *,
    severity: str | None = None,
    session: AccessRequest | None = None,
) -> Wanted:
    """A finding about ``events`` (in time order), seen from the first to the last."""
    return Wanted(
        kind=kind,
        severity=severity or SEVERITY_BY_KIND[kind],
        events=events,
        session=session,
        first_seen=events[0].event_time,
        last_seen=events[-1].event_time,
        summary=summary,
    )


def wanted_findings(
    *,
    aws_account_id: str,
    label: str,
    events: list[RootEvent],
    sessions: list[AccessRequest],
    credential: RootCredential | None,
    now: datetime,
    config: ReconcileConfig,
    keys: KeyMatches = NO_KEYS,
    calls: Sequence[AssumeRootCall] = (),
) -> dict[str, Wanted]:
    """The findings the account should have, by dedupe key. ``events`` are ordered by time and
    already matched to ``sessions`` (the account's check-outs); ``label`` names the account.

    ``keys`` are the AssumeRoot keys the portal issued for the account and ``calls`` the AssumeRoot
    calls that targeted it: a key the portal did not issue is ``assume_root_unbrokered`` (critical,
    one finding per key, naming the caller, linked to every action made with it, which are also root
    use without a check-out: one incident). Records made with the portal's own posture-audit keys
    are the portal's doing and raise nothing. A call that issued no key (AssumeRoot refused) gave
    nobody root and raises nothing.
    """
    wanted: dict[str, Wanted] = {}
    unapproved: dict[date, list[RootEvent]] = defaultdict(list)
    failed: dict[datetime, list[RootEvent]] = defaultdict(list)
    outside: dict[int, list[RootEvent]] = defaultdict(list)
    unbrokered: dict[str, list[RootEvent]] = defaultdict(list)
    for event in events:
        if event.is_service_event:
            continue  # AWS acting: never a person's doing
        if event.session_id is None and event.access_key_id and event.access_key_id in keys.portal:
            continue  # the portal's own AssumeRoot (a posture audit): issued, recorded, no person's doing
        if (
            made_with_assume_root(event, keys)
            and event.access_key_id
            and event.access_key_id not in keys.portal
        ):
            unbrokered[event.access_key_id].append(event)
        kinds = set(event.record_finding_kinds or [])
        moment = event.event_time.astimezone(UTC)
        if event.in_scope and event.access_key_id and event.access_key_id in keys.sessions:
            # The portal itself did this, with the session's key, as the approved AssumeRoot task
            # (deleting root's MFA, re-allowing password recovery): no finding of its own.
            kinds -= PER_EVENT_KINDS
        for kind in sorted(kinds & PER_EVENT_KINDS):
            session = event.session if event.session_id is not None else None
            summary = per_event_summary(kind, event, label)
            wanted[dedupe_key(kind, aws_account_id, event.event_id)] = _about_events(
                kind, [event], summary, session=session
            )
        if K.ROOT_LOGIN_FAILED in kinds:
            failed[moment.replace(minute=0, second=0, microsecond=0)].append(event)
        failed_login = event.event_name == "ConsoleLogin" and event.login_success is False
        if event.session_id is None and not failed_login:
            unapproved[moment.date()].append(event)
        if event.session_id is not None and event.in_scope is False:
            outside[event.session_id].append(event)
    for day, found in unapproved.items():
        wanted[dedupe_key(K.UNAPPROVED_ROOT_USAGE, aws_account_id, day.isoformat())] = _about_events(
            K.UNAPPROVED_ROOT_USAGE, found, unapproved_summary(found, label)
        )
    for hour, found in failed.items():
        burst = len(found) >= FAILED_LOGIN_BURST
        wanted[dedupe_key(K.ROOT_LOGIN_FAILED, aws_account_id, f"{hour:%Y-%m-%dT%H}")] = _about_events(
            K.ROOT_LOGIN_FAILED,
            found,
            failed_logins_summary(found, label, burst=burst),
            severity=FAILED_LOGIN_BURST_SEVERITY if burst else SEVERITY_BY_KIND[K.ROOT_LOGIN_FAILED],
        )
    _unbrokered(wanted, aws_account_id, label, unbrokered, calls, keys)
    by_pk = {session.pk: session for session in sessions}
    for session_pk, found in outside.items():
        session = by_pk[session_pk]
        wanted[dedupe_key(K.ROOT_ACTIVITY_OUTSIDE_SCOPE, session.code)] = _about_events(
            K.ROOT_ACTIVITY_OUTSIDE_SCOPE,
            found,
            outside_scope_summary(session, found, label),
            session=session,
        )
    for session in sessions:
        for finding in (
            _checkout_overdue(session, label, now),
            _rotation_overdue(session, credential, label, now, config),
            _emergency_unreviewed(session, label, now, config),
            _emergency_unacknowledged(session, label, now, config),
        ):
            if finding is not None:
                wanted[dedupe_key(finding.kind, session.code)] = finding
    return wanted


def _unbrokered(
    wanted: dict[str, Wanted],
    aws_account_id: str,
    label: str,
    events_by_key: dict[str, list[RootEvent]],
    calls: Sequence[AssumeRootCall],
    keys: KeyMatches,
) -> None:
    calls_by_key: dict[str, AssumeRootCall] = {}
    for made in sorted(calls, key=lambda c: c.event_time):
        if made.access_key_id and made.access_key_id not in keys.portal:
            calls_by_key.setdefault(made.access_key_id, made)
    for key in sorted(set(events_by_key) | set(calls_by_key)):
        call = calls_by_key.get(key)
        found = events_by_key.get(key, [])
        moments = [e.event_time for e in found] + ([call.event_time] if call is not None else [])
        caller = (
            call.caller_arn
            if call is not None
            else next((e.assume_root_caller for e in found if e.assume_root_caller), "")
        )
        wanted[dedupe_key(K.ASSUME_ROOT_UNBROKERED, aws_account_id, key)] = Wanted(
            kind=K.ASSUME_ROOT_UNBROKERED,
            severity=SEVERITY_BY_KIND[K.ASSUME_ROOT_UNBROKERED],
            first_seen=min(moments),
            last_seen=max(moments),
            summary=assume_root_unbrokered_summary(
                key=key,
                label=label,
                caller=caller,
                policy_arn=call.task_policy_arn if call is not None else "",
                called_at=call.event_time if call is not None else None,
                events=found,
            ),
            events=found,
        )


def _checkout_overdue(session: AccessRequest, label: str, now: datetime) -> Wanted | None:
    due = session.due_at
    if due is None:
        return None
    ended = custody_end(session)
    if ended is None:
        if session.status != RequestStatus.ACTIVE or now <= due:
            return None
        last = due
    else:
        if ended <= due:
            return None
        last = ended
    return Wanted.about_session(
        K.CHECKOUT_OVERDUE,
        session,
        first_seen=due,
        last_seen=last,
        summary=checkout_overdue_summary(session, label, due=due, ended=ended),
    )


def _rotation_overdue(
    session: AccessRequest,
    credential: RootCredential | None,
    label: str,
    now: datetime,
    config: ReconcileConfig,
) -> Wanted | None:
    if credential is None or credential.storage == CredentialStorage.NONE:
        return None  # no password (centralised root access): nothing to rotate
    ended = custody_end(session)
    if ended is None:
        return None
    deadline = ended + config.rotation_overdue
    rotated = session.rotation_confirmed_at
    if rotated is None and credential.last_rotated_at is not None and credential.last_rotated_at >= ended:
        rotated = credential.last_rotated_at
    if (rotated is not None and rotated <= deadline) or (rotated is None and now < deadline):
        return None
    hours = int(config.rotation_overdue.total_seconds() // 3600)
    return Wanted.about_session(
        K.ROTATION_OVERDUE,
        session,
        first_seen=deadline,
        last_seen=rotated or deadline,
        summary=rotation_overdue_summary(session, label, hours=hours, ended=ended, rotated=rotated),
    )


def _emergency_unreviewed(
    session: AccessRequest, label: str, now: datetime, config: ReconcileConfig
) -> Wanted | None:
    if not session.emergency or session.checked_out_at is None:
        return None
    deadline = session.checked_out_at + config.emergency_review
    approved = session.emergency_approved_at
    if (approved is not None and approved < deadline) or (approved is None and now < deadline):
        return None
    hours = int(config.emergency_review.total_seconds() // 3600)
    return Wanted.about_session(
        K.EMERGENCY_ACCESS_UNREVIEWED,
        session,
        first_seen=deadline,
        last_seen=approved or deadline,
        summary=emergency_unreviewed_summary(session, label, hours=hours, approved=approved),
    )


def _acknowledgement_deadline(session: AccessRequest, config: ReconcileConfig) -> datetime | None:
    """When a second person must have acknowledged an emergency session; None for other sessions."""
    if not session.emergency or session.checked_out_at is None:
        return None
    return session.checked_out_at + config.emergency_ack


def _emergency_unacknowledged(
    session: AccessRequest, label: str, now: datetime, config: ReconcileConfig
) -> Wanted | None:
    deadline = _acknowledgement_deadline(session, config)
    if deadline is None:
        return None
    acknowledged = session.emergency_acknowledged_at
    if (acknowledged is not None and acknowledged <= deadline) or (acknowledged is None and now < deadline):
        return None
    minutes = int(config.emergency_ack.total_seconds() // 60)
    return Wanted.about_session(
        K.EMERGENCY_UNACKNOWLEDGED,
        session,
        first_seen=deadline,
        last_seen=acknowledged or deadline,
        summary=emergency_unacknowledged_summary(session, label, minutes=minutes, acknowledged=acknowledged),
    )
