"""Reconciliation: every person's root action is matched to a check-out or becomes a finding.

:func:`reconcile` is a pure recomputation from stored data (root events, check-outs, findings), so it is
idempotent and can run as often as anyone likes: after an ingestion, after a check-out's window
changed (``audits.signals``), on a schedule. Per account, in one transaction:

1. Each root event that a person made (not an ``AwsServiceEvent``) is matched to the check-out of its
   account whose window holds it: from ``checked_out_at`` minus ``PORTAL_RECONCILE_GRACE_BEFORE_MINUTES``
   to the end of custody plus ``PORTAL_RECONCILE_GRACE_AFTER_MINUTES`` (CloudTrail delivers late). The
   end of custody is the check-in; for a revoked session, the revocation (or the check-in, if earlier);
   an active session's window is open. ``RootEvent.session`` and ``in_scope`` (the event is one of the
   task's ``expected_actions``) follow; events a changed window no longer covers are unmatched.
2. The findings of the design's table are computed, each under a stable dedupe key, and compared with
   the stored ones: new ones are raised (with a ``finding.raised`` ledger entry), changed ones updated,
   and those that no longer apply (their events matched after a window change) resolved with an
   automatic note and a ledger entry. Findings are never deleted.
3. Critical findings are announced at once, once per finding: ``alerted_at`` is set in the transaction
   that queues the notifications (``breakglass.notifications.outbox.queue_alert``).

Findings about lateness (``checkout_overdue``, ``rotation_overdue``, ``emergency_access_unreviewed``)
record a fact about the past: a check-out returned late stays a finding once returned, until a person
triages it. ``emergency_access_unreviewed`` is raised ``PORTAL_EMERGENCY_REVIEW_HOURS`` after an
emergency check-out still without its approvals, not at once: everyone is already notified when the
glass is broken, and approvers need time to review; ``0`` makes every emergency session a finding.

A failed root ``ConsoleLogin`` is not "root used" (nobody got in): it raises ``root_login_failed``, not
``unapproved_root_usage``. Any other root call counts, failed or not: whoever made it held root
credentials.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from audits.choices import FindingKind, FindingStatus, Severity
from audits.models import Finding, RootEvent
from breakglass.choices import CredentialStorage, RequestStatus
from breakglass.models import AccessRequest, AwsAccount, RootCredential, Transition
from breakglass.notifications import outbox
from breakglass.root_tasks import BY_CODE as ROOT_TASKS
from ledger import services as ledger
from portal.links import absolute_url

logger = logging.getLogger(__name__)

K = FindingKind

#: Kinds one record raises on its own (``RootEvent.record_finding_kinds``), one finding per event,
#: whether or not a check-out covers it: a root sign-in without MFA is wrong even when approved.
PER_EVENT_SEVERITY: dict[str, str] = {
    K.ROOT_LOGIN_WITHOUT_MFA: Severity.CRITICAL,
    K.ROOT_ACCESS_KEY_CREATED: Severity.CRITICAL,
    K.ROOT_CLOUDTRAIL_TAMPERING: Severity.CRITICAL,
    K.ROOT_PASSWORD_RECOVERY: Severity.HIGH,
    K.ROOT_MFA_CHANGED: Severity.HIGH,
}
#: Failed root sign-ins in one hour from which the hour's finding is high rather than medium.
FAILED_LOGIN_BURST = 5
#: The kinds this module raises and resolves; other kinds (posture checks) are left alone.
MANAGED_KINDS = frozenset(
    {
        K.UNAPPROVED_ROOT_USAGE,
        K.ROOT_LOGIN_FAILED,
        K.ROOT_ACTIVITY_OUTSIDE_SCOPE,
        K.CHECKOUT_OVERDUE,
        K.ROTATION_OVERDUE,
        K.EMERGENCY_ACCESS_UNREVIEWED,
        *PER_EVENT_SEVERITY,
    }
)
# Advisory-lock namespace of per-account reconciliation (pg_advisory_xact_lock(int, int)).
_ACCOUNT_LOCK_NAMESPACE = 0x43540002
_ACCOUNT_BATCH = 500
_LEDGER_EVENT_IDS = 100


@dataclass(frozen=True)
class ReconcileConfig:
    """The settings that shape windows and deadlines (see the README's configuration table)."""

    grace_before: timedelta
    grace_after: timedelta
    rotation_overdue: timedelta
    emergency_review: timedelta

    @classmethod
    def from_settings(cls) -> ReconcileConfig:
        return cls(
            grace_before=timedelta(minutes=getattr(settings, "PORTAL_RECONCILE_GRACE_BEFORE_MINUTES", 5)),
            grace_after=timedelta(minutes=getattr(settings, "PORTAL_RECONCILE_GRACE_AFTER_MINUTES", 30)),
            rotation_overdue=timedelta(hours=getattr(settings, "PORTAL_ROTATION_OVERDUE_HOURS", 24)),
            emergency_review=timedelta(hours=getattr(settings, "PORTAL_EMERGENCY_REVIEW_HOURS", 24)),
        )


def reconcile(*, account_ids: Iterable[str] | None = None, now: datetime | None = None) -> int:
    """Recompute matches and findings for ``account_ids`` (None: every account with events, findings
    or an inventory entry). Returns how many findings were raised or changed (0 on a re-run)."""
    now = now or timezone.now()
    config = ReconcileConfig.from_settings()
    ids = sorted({a for a in account_ids if a}) if account_ids is not None else _all_account_ids()
    changed = 0
    for start in range(0, len(ids), _ACCOUNT_BATCH):
        batch = ids[start : start + _ACCOUNT_BATCH]
        accounts = {
            account.account_id: account for account in AwsAccount.objects.filter(account_id__in=batch)
        }
        for aws_account_id in batch:
            with transaction.atomic():
                _lock_account(aws_account_id)
                changed += _AccountReconciliation(
                    aws_account_id, accounts.get(aws_account_id), now=now, config=config
                ).run()
    return changed


def _all_account_ids() -> list[str]:
    found: set[str] = set(RootEvent.objects.values_list("aws_account_id", flat=True).distinct())
    found.update(AwsAccount.objects.values_list("account_id", flat=True))
    found.update(
        Finding.objects.filter(kind__in=MANAGED_KINDS).values_list("aws_account_id", flat=True).distinct()
    )
    return sorted(found)


def _lock_account(aws_account_id: str) -> None:
    """Serialise reconciliations of one account (two ingesting workers finish at the same moment).

    Without it, both would compute the same new finding and one would fail on the dedupe key. The
    lock is transaction-scoped, so it is released at commit. SQLite serialises writers on its own.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as db:
        db.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_ACCOUNT_LOCK_NAMESPACE, aws_account_id]
        )


def dedupe_key(kind: str, *parts: str) -> str:
    """``kind:part:...``, the identity of a finding: per event, per account and UTC day or hour, or
    per check-out (by its code). Stable across runs and databases, so re-running never duplicates."""
    return ":".join([FindingKind(kind).value, *parts])


# --- Windows -------------------------------------------------------------------------------------


@dataclass
class _Window:
    session: AccessRequest
    # With the grace periods; ``end`` None means open (an active check-out).
    start: datetime
    end: datetime | None
    # Custody itself, to prefer the session that really held the credential when windows overlap.
    held_from: datetime
    held_until: datetime | None


def _custody_end(session: AccessRequest) -> datetime | None:
    """When the holder stopped holding the credential; None while it is out."""
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


def _window(session: AccessRequest, config: ReconcileConfig) -> _Window:
    assert session.checked_out_at is not None
    held_until = _custody_end(session)
    return _Window(
        session=session,
        start=session.checked_out_at - config.grace_before,
        end=held_until + config.grace_after if held_until is not None else None,
        held_from=session.checked_out_at,
        held_until=held_until,
    )


class _Windows:
    """Windows of one account, searchable by time without comparing every event with every one."""

    def __init__(self, windows: list[_Window]) -> None:
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

    def match(self, moment: datetime) -> _Window | None:
        best: _Window | None = None
        best_rank: tuple[float, float] | None = None
        index = bisect.bisect_right(self.starts, moment) - 1
        while index >= 0:
            reach = self.reach[index]
            if reach is not None and reach < moment:
                break
            w = self.windows[index]
            if w.end is None or moment <= w.end:
                # Inside custody beats inside a grace period; then the later check-out.
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


def _in_scope(session: AccessRequest, event_name: str) -> bool | None:
    task = ROOT_TASKS.get(session.root_task)
    if task is None:
        return None  # a task this version does not know: no judgement rather than a false one
    return event_name in task.expected_actions


# --- Findings ------------------------------------------------------------------------------------


@dataclass
class _Wanted:
    kind: str
    severity: str
    events: list[RootEvent] = field(default_factory=list)
    session: AccessRequest | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    summary: str = ""


class _AccountReconciliation:
    def __init__(
        self, aws_account_id: str, account: AwsAccount | None, *, now: datetime, config: ReconcileConfig
    ) -> None:
        self.aws_account_id = aws_account_id
        self.account = account
        self.now = now
        self.config = config
        self.label = (
            f"{account.name} ({account.account_id})"
            if account is not None
            else f"AWS account {aws_account_id}, which is not in the portal's inventory,"
        )
        self.short_label = (
            f"{account.name} ({account.account_id})"
            if account is not None
            else f"{aws_account_id} (not in the inventory)"
        )

    # Loading: a fixed number of queries per account, whatever the number of events.

    def _sessions(self) -> list[AccessRequest]:
        if self.account is None:
            return []
        revoked = Transition.objects.filter(request=OuterRef("pk"), to_status=RequestStatus.REVOKED).order_by(
            "created_at"
        )
        return list(
            AccessRequest.objects.filter(account=self.account, checked_out_at__isnull=False)
            .select_related("requester", "account")
            .annotate(revoked_at=Subquery(revoked.values("created_at")[:1]))
            .order_by("checked_out_at", "pk")
        )

    def run(self) -> int:
        sessions = self._sessions()
        windows = _Windows([_window(session, self.config) for session in sessions])
        events = list(
            RootEvent.objects.filter(aws_account_id=self.aws_account_id)
            .defer("raw")
            .order_by("event_time", "pk")
        )
        self._match(events, windows)
        credential = (
            RootCredential.objects.filter(account=self.account).first()
            if self.account is not None and sessions
            else None
        )
        wanted = self._wanted(events, sessions, credential)
        return self._apply(wanted, {event.pk: event for event in events})

    def _match(self, events: list[RootEvent], windows: _Windows) -> None:
        dirty: list[RootEvent] = []
        for event in events:
            session: AccessRequest | None = None
            in_scope: bool | None = None
            if not event.is_service_event:
                found = windows.match(event.event_time)
                if found is not None:
                    session = found.session
                    in_scope = _in_scope(session, event.event_name)
            session_id = session.pk if session is not None else None
            if event.session_id != session_id or event.in_scope != in_scope:
                event.session = session
                event.in_scope = in_scope
                event.updated_at = self.now
                dirty.append(event)
            elif session is not None:
                event.session = session  # the loaded object, for summaries without a query
        if dirty:
            RootEvent.objects.bulk_update(dirty, ["session", "in_scope", "updated_at"], batch_size=1000)

    def _wanted(
        self, events: list[RootEvent], sessions: list[AccessRequest], credential: RootCredential | None
    ) -> dict[str, _Wanted]:
        wanted: dict[str, _Wanted] = {}
        unapproved: dict[date, list[RootEvent]] = defaultdict(list)
        failed: dict[datetime, list[RootEvent]] = defaultdict(list)
        outside: dict[int, list[RootEvent]] = defaultdict(list)
        for event in events:
            if event.is_service_event:
                continue  # AWS acting: never a person's doing
            kinds = set(event.record_finding_kinds or [])
            moment = event.event_time.astimezone(UTC)
            for kind in sorted(kinds & PER_EVENT_SEVERITY.keys()):
                wanted[dedupe_key(kind, self.aws_account_id, event.event_id)] = self._per_event(kind, event)
            if K.ROOT_LOGIN_FAILED in kinds:
                failed[moment.replace(minute=0, second=0, microsecond=0)].append(event)
            failed_login = event.event_name == "ConsoleLogin" and event.login_success is False
            if event.session_id is None and not failed_login:
                unapproved[moment.date()].append(event)
            if event.session_id is not None and event.in_scope is False:
                outside[event.session_id].append(event)
        for day, found in unapproved.items():
            wanted[dedupe_key(K.UNAPPROVED_ROOT_USAGE, self.aws_account_id, day.isoformat())] = (
                self._unapproved(found)
            )
        for hour, found in failed.items():
            key = dedupe_key(K.ROOT_LOGIN_FAILED, self.aws_account_id, f"{hour:%Y-%m-%dT%H}")
            wanted[key] = self._failed_logins(found)
        by_pk = {session.pk: session for session in sessions}
        for session_pk, found in outside.items():
            session = by_pk[session_pk]
            wanted[dedupe_key(K.ROOT_ACTIVITY_OUTSIDE_SCOPE, session.code)] = self._outside_scope(
                session, found
            )
        for session in sessions:
            for finding in (
                self._overdue(session),
                self._rotation_overdue(session, credential),
                self._emergency_unreviewed(session),
            ):
                if finding is not None:
                    wanted[dedupe_key(finding.kind, session.code)] = finding
        return wanted

    # The findings, in words an on-call engineer understands.

    def _per_event(self, kind: str, event: RootEvent) -> _Wanted:
        session = event.session if event.session_id is not None else None
        during = (
            f" during check-out {session.code}" if session is not None else " with no check-out covering it"
        )
        where = f" from {event.source_ip}" if event.source_ip else ""
        at = f"at {_at(event.event_time)}{where}{during}{_via(event)}"
        if kind == K.ROOT_LOGIN_WITHOUT_MFA:
            text = f"Root of {self.label} signed in to the console without MFA {at}."
        elif kind == K.ROOT_ACCESS_KEY_CREATED:
            text = (
                f"Root of {self.label} created an access key for itself {at}; "
                "root access keys must not exist."
            )
        elif kind == K.ROOT_CLOUDTRAIL_TAMPERING:
            outcome = "" if event.succeeded else " (the call failed, but whoever made it holds root)"
            text = (
                f"Root of {self.label} called CloudTrail {event.event_name} {at}{outcome}: "
                "logging may be off."
            )
        elif kind == K.ROOT_PASSWORD_RECOVERY:
            text = f"Root of {self.label} recovered or changed its password ({event.event_name}) {at}."
        else:
            text = f"Root of {self.label} changed its MFA devices ({event.event_name}) {at}."
        return _Wanted(
            kind=kind,
            severity=PER_EVENT_SEVERITY[kind],
            events=[event],
            session=session,
            first_seen=event.event_time,
            last_seen=event.event_time,
            summary=text,
        )

    def _unapproved(self, events: list[RootEvent]) -> _Wanted:
        first, last = events[0], events[-1]
        if len(events) == 1:
            what = f"{first.event_name} at {_at(first.event_time)}"
        else:
            what = (
                f"{len(events)} actions on {first.event_time.astimezone(UTC):%Y-%m-%d} between "
                f"{first.event_time.astimezone(UTC):%H:%M:%S} and {last.event_time.astimezone(UTC):%H:%M:%S} "
                f"UTC ({_names(events)})"
            )
        text = (
            f"Root of {self.label} was used without an approved check-out: "
            f"{what}{_from(events)}{_via(*events)}."
        )
        return _Wanted(
            kind=K.UNAPPROVED_ROOT_USAGE,
            severity=Severity.CRITICAL,
            events=events,
            first_seen=first.event_time,
            last_seen=last.event_time,
            summary=text,
        )

    def _failed_logins(self, events: list[RootEvent]) -> _Wanted:
        first, last = events[0], events[-1]
        count = len(events)
        when = (
            f"at {_at(first.event_time)}"
            if count == 1
            else f"between {_at(first.event_time)} and {last.event_time.astimezone(UTC):%H:%M:%S} UTC"
        )
        burst = " (a burst: someone may be guessing the password)" if count >= FAILED_LOGIN_BURST else ""
        noun = "sign-in" if count == 1 else "sign-ins"
        return _Wanted(
            kind=K.ROOT_LOGIN_FAILED,
            severity=Severity.HIGH if count >= FAILED_LOGIN_BURST else Severity.MEDIUM,
            events=events,
            first_seen=first.event_time,
            last_seen=last.event_time,
            summary=f"{count} failed root {noun} to {self.label} {when}{_from(events)}{burst}.",
        )

    def _outside_scope(self, session: AccessRequest, events: list[RootEvent]) -> _Wanted:
        task = ROOT_TASKS.get(session.root_task)
        title = task.title if task is not None else session.root_task
        count = len(events)
        noun = "action" if count == 1 else "actions"
        text = (
            f"During check-out {session.code} of the root of {self.label} by {_person(session)} for "
            f'"{title}", root made {count} {noun} that task does not need ({_names(events)}), '
            f"first at {_at(events[0].event_time)}."
        )
        return _Wanted(
            kind=K.ROOT_ACTIVITY_OUTSIDE_SCOPE,
            severity=Severity.HIGH,
            events=events,
            session=session,
            first_seen=events[0].event_time,
            last_seen=events[-1].event_time,
            summary=text,
        )

    def _overdue(self, session: AccessRequest) -> _Wanted | None:
        due = session.due_at
        if due is None:
            return None
        ended = _custody_end(session)
        if ended is None:
            if session.status != RequestStatus.ACTIVE or self.now <= due:
                return None
            how = "and is still checked out"
            last = due
        else:
            if ended <= due:
                return None
            minutes = int((ended - due).total_seconds() // 60)
            verb = (
                "revoked"
                if session.status == RequestStatus.REVOKED and not session.checked_in_at
                else "returned"
            )
            how = f"and was {verb} {minutes} minutes late, at {_at(ended)}"
            last = ended
        return _Wanted(
            kind=K.CHECKOUT_OVERDUE,
            severity=Severity.HIGH,
            session=session,
            first_seen=due,
            last_seen=last,
            summary=f"Check-out {session.code} of the root of {self.label} by {_person(session)} "
            f"was due back at {_at(due)} {how}.",
        )

    def _rotation_overdue(self, session: AccessRequest, credential: RootCredential | None) -> _Wanted | None:
        if credential is None or credential.storage == CredentialStorage.NONE:
            return None  # no password (centralised root access): nothing to rotate
        ended = _custody_end(session)
        if ended is None:
            return None
        deadline = ended + self.config.rotation_overdue
        rotated = session.rotation_confirmed_at
        if rotated is None and credential.last_rotated_at is not None and credential.last_rotated_at >= ended:
            rotated = credential.last_rotated_at
        if (rotated is not None and rotated <= deadline) or (rotated is None and self.now < deadline):
            return None
        hours = int(self.config.rotation_overdue.total_seconds() // 3600)
        after = f"; it was rotated at {_at(rotated)}" if rotated is not None else " and still is not"
        return _Wanted(
            kind=K.ROTATION_OVERDUE,
            severity=Severity.MEDIUM,
            session=session,
            first_seen=deadline,
            last_seen=rotated or deadline,
            summary=f"The root password of {self.label} was not confirmed rotated within {hours} hours "
            f"of the end of check-out {session.code} by {_person(session)} at {_at(ended)}{after}.",
        )

    def _emergency_unreviewed(self, session: AccessRequest) -> _Wanted | None:
        if not session.emergency or session.checked_out_at is None:
            return None
        deadline = session.checked_out_at + self.config.emergency_review
        approved = session.emergency_approved_at
        if (approved is not None and approved < deadline) or (approved is None and self.now < deadline):
            return None
        hours = int(self.config.emergency_review.total_seconds() // 3600)
        after = f"; they came at {_at(approved)}" if approved is not None else ""
        return _Wanted(
            kind=K.EMERGENCY_ACCESS_UNREVIEWED,
            severity=Severity.HIGH,
            session=session,
            first_seen=deadline,
            last_seen=approved or deadline,
            summary=f"Emergency check-out {session.code} of the root of {self.label} by {_person(session)}, "
            f"self-authorised at {_at(session.checked_out_at)}, had no approvals {hours} hours later{after}.",
        )

    # Writing: compare with what is stored, change only what differs.

    def _apply(self, wanted: dict[str, _Wanted], events_by_pk: dict[int, RootEvent]) -> int:
        existing = {
            finding.dedupe_key: finding
            for finding in Finding.objects.filter(aws_account_id=self.aws_account_id, kind__in=MANAGED_KINDS)
        }
        links: dict[int, set[int]] = defaultdict(set)
        if existing:
            for finding_id, event_id in Finding.events.through.objects.filter(
                finding_id__in=[finding.pk for finding in existing.values()]
            ).values_list("finding_id", "rootevent_id"):
                links[finding_id].add(event_id)
        changed = 0
        for key in sorted(wanted):
            finding = existing.get(key)
            if finding is None:
                finding = self._raise(key, wanted[key])
                changed += 1
            elif self._update(finding, wanted[key], links[finding.pk]):
                changed += 1
            self._alert(finding, wanted[key])
        for key, finding in sorted(existing.items()):
            if key not in wanted and finding.status in (FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED):
                self._resolve(finding, links[finding.pk], events_by_pk)
                changed += 1
        return changed

    def _raise(self, key: str, want: _Wanted) -> Finding:
        assert want.first_seen is not None
        assert want.last_seen is not None
        digest = hashlib.sha256(key.encode()).hexdigest().upper()
        # The code derives from the dedupe key, so the same finding gets the same code in any database
        # (a re-ingestion elsewhere, a restore); another slice of the digest on the rare collision.
        for offset in range(0, len(digest) - 6, 6):
            code = f"F-{want.first_seen.astimezone(UTC):%y%m%d}-{digest[offset : offset + 6]}"
            if Finding.objects.filter(code=code).exists():
                continue
            try:
                with transaction.atomic():
                    finding = Finding.objects.create(
                        code=code,
                        kind=want.kind,
                        severity=want.severity,
                        dedupe_key=key,
                        aws_account_id=self.aws_account_id,
                        account=self.account,
                        session=want.session,
                        first_seen=want.first_seen,
                        last_seen=want.last_seen,
                        summary=want.summary,
                    )
            except IntegrityError:
                continue  # the same code taken a moment ago by another account's reconciliation
            break
        else:  # pragma: no cover - 10 collisions in a row on a SHA-256
            raise RuntimeError(f"no free finding code for {key}")
        self._link(finding, {event.pk for event in want.events}, set())
        ledger.record(
            actor=None, action="finding.raised", target=finding, data=self._ledger_data(finding, want)
        )
        return finding

    def _update(self, finding: Finding, want: _Wanted, linked: set[int]) -> bool:
        assert want.first_seen is not None
        assert want.last_seen is not None
        wanted_ids = {event.pk for event in want.events}
        gained = wanted_ids - linked
        fields = {
            "severity": want.severity,
            "summary": want.summary,
            "first_seen": want.first_seen,
            "last_seen": want.last_seen,
            "session_id": want.session.pk if want.session is not None else None,
            # An account added to the inventory after its findings were raised.
            "account_id": self.account.pk if self.account is not None else None,
        }
        dirty = [name for name, value in fields.items() if getattr(finding, name) != value]
        for name in dirty:
            setattr(finding, name, fields[name])
        reopen = (finding.status == FindingStatus.RESOLVED and finding.triaged_by_id is None) or (
            finding.status in (FindingStatus.RESOLVED, FindingStatus.FALSE_POSITIVE) and bool(gained)
        )
        if wanted_ids != linked:
            self._link(finding, wanted_ids, linked)
        if not dirty and not reopen:
            return wanted_ids != linked
        if reopen:
            previous = finding.status
            finding.status = FindingStatus.OPEN
            finding.triaged_by = None
            finding.triaged_at = None
            # A reopened critical finding is news again.
            finding.alerted_at = None
            dirty += ["status", "triaged_by", "triaged_at", "alerted_at"]
            reason = "new root events arrived" if gained else "it applies again on re-evaluation"
            finding.triage_note = f"Reopened automatically: {reason}."
            dirty.append("triage_note")
            ledger.record(
                actor=None,
                action="finding.reopened",
                target=finding,
                data={**self._ledger_data(finding, want), "from": previous, "reason": reason},
            )
        finding.save(update_fields=[*{name.removesuffix("_id") for name in dirty}, "updated_at"])
        return True

    def _resolve(self, finding: Finding, linked: set[int], events_by_pk: dict[int, RootEvent]) -> None:
        codes = sorted(
            {
                event.session.code
                for pk in linked
                if (event := events_by_pk.get(pk)) is not None
                and event.session_id is not None
                and event.session is not None
            }
        )
        if finding.kind == K.UNAPPROVED_ROOT_USAGE and codes:
            note = f"Resolved automatically: matched to session {', '.join(codes)} on re-evaluation."
        elif finding.kind == K.ROOT_ACTIVITY_OUTSIDE_SCOPE:
            note = (
                "Resolved automatically: no out-of-scope root actions remain in the session on re-evaluation."
            )
        else:
            note = "Resolved automatically: no longer applies on re-evaluation."
        previous = finding.status
        finding.status = FindingStatus.RESOLVED
        finding.triage_note = note
        finding.triaged_by = None
        finding.triaged_at = self.now
        finding.save(update_fields=["status", "triage_note", "triaged_by", "triaged_at", "updated_at"])
        ledger.record(
            actor=None,
            action="finding.resolved",
            target=finding,
            data={
                "code": finding.code,
                "kind": finding.kind,
                "account_id": finding.aws_account_id,
                "from": previous,
                "to": FindingStatus.RESOLVED,
                "note": note,
                "sessions": codes,
            },
        )

    def _link(self, finding: Finding, wanted_ids: set[int], linked: set[int]) -> None:
        through = Finding.events.through
        removed = linked - wanted_ids
        if removed:
            through.objects.filter(finding_id=finding.pk, rootevent_id__in=removed).delete()
        added = wanted_ids - linked
        if added:
            through.objects.bulk_create(
                [through(finding_id=finding.pk, rootevent_id=pk) for pk in sorted(added)],
                ignore_conflicts=True,
            )

    def _ledger_data(self, finding: Finding, want: _Wanted) -> dict[str, Any]:
        event_ids = sorted(event.event_id for event in want.events)
        data: dict[str, Any] = {
            "code": finding.code,
            "kind": finding.kind,
            "severity": finding.severity,
            "account_id": finding.aws_account_id,
            "session": want.session.code if want.session is not None else None,
            "event_count": len(event_ids),
            "event_ids": event_ids[:_LEDGER_EVENT_IDS],
        }
        return data

    def _alert(self, finding: Finding, want: _Wanted) -> None:
        if (
            finding.severity != Severity.CRITICAL
            or finding.status != FindingStatus.OPEN
            or finding.alerted_at is not None
        ):
            return
        payload = {
            "code": finding.code,
            "uuid": str(finding.uuid),
            "kind": finding.kind,
            "severity": finding.severity,
            "account_id": finding.aws_account_id,
            "account_name": self.account.name if self.account is not None else None,
            "first_seen": _iso(finding.first_seen),
            "last_seen": _iso(finding.last_seen),
            "summary": finding.summary,
            "event_ids": sorted(event.event_id for event in want.events)[:_LEDGER_EVENT_IDS],
            "url": finding_link(finding),
        }
        kind_label = FindingKind(finding.kind).label
        outbox.queue_alert(
            finding_summary=finding.summary,
            subject=f"{finding.code} {kind_label}: {self.short_label}",
            account=self.account,
            payload=payload,
        )
        # Same transaction as the queued notifications: both happen, or neither (then the next run alerts).
        finding.alerted_at = self.now
        finding.save(update_fields=["alerted_at", "updated_at"])


def finding_link(finding: Finding) -> str:
    """The finding's page, absolute, for alerts read outside the portal."""
    return absolute_url("audits:finding_detail", kwargs={"uuid": finding.uuid})


# --- Words ---------------------------------------------------------------------------------------


def _at(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _names(events: list[RootEvent], limit: int = 5) -> str:
    names = list(dict.fromkeys(event.event_name for event in events))
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown


def _from(events: Iterable[RootEvent], limit: int = 3) -> str:
    addresses = list(dict.fromkeys(event.source_ip for event in events if event.source_ip))
    if not addresses:
        return ""
    shown = ", ".join(addresses[:limit])
    more = f" and {len(addresses) - limit} more" if len(addresses) > limit else ""
    return f" from {shown}{more}"


def _via(*events: RootEvent) -> str:
    callers = list(dict.fromkeys(event.assume_root_caller for event in events if event.assume_root_caller))
    if not callers:
        return ""
    return f", through AssumeRoot called by {', '.join(callers[:2])}"


def _person(session: AccessRequest) -> str:
    user = session.requester
    full_name = user.get_full_name()
    return f"{full_name} ({user.get_username()})" if full_name else user.get_username()


__all__ = [
    "FAILED_LOGIN_BURST",
    "MANAGED_KINDS",
    "PER_EVENT_SEVERITY",
    "ReconcileConfig",
    "dedupe_key",
    "finding_link",
    "reconcile",
]
