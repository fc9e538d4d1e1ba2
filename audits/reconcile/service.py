"""Reconciling accounts: load each account's rows, match, compute, apply, in one transaction.

:func:`reconcile` is the entry point (``audits.reconcile`` re-exports it): ingestion runs, the signal
of a check-out's window change (``audits.signals``) and the beat schedule call it. Loading costs a
fixed number of queries per account, whatever the number of events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from audits.choices import FindingKind
from audits.models import AssumeRootCall, Finding, IssuedRootKey, RootEvent
from audits.reconcile.apply import AccountScope, apply_findings
from audits.reconcile.drills import observe_drills
from audits.reconcile.wanted import MANAGED_KINDS, wanted_findings
from audits.reconcile.windows import KeyMatches, ReconcileConfig, Windows, match_events, window_of
from audits.reconcile.wording import account_label
from breakglass.choices import RequestStatus
from breakglass.models import AccessRequest, AwsAccount, RootCredential, RootTaskRun, Transition

__all__ = ["reconcile", "reconcile_account", "reconcile_unacknowledged_emergencies"]

# Advisory-lock namespace of per-account reconciliation (pg_advisory_xact_lock(int, int)).
_ACCOUNT_LOCK_NAMESPACE = 0x43540002
_ACCOUNT_BATCH = 500


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
                scope = AccountScope(aws_account_id, accounts.get(aws_account_id), now)
                changed += reconcile_account(scope, config)
    return changed


def reconcile_unacknowledged_emergencies(*, now: datetime | None = None) -> list[str]:
    """Reconcile the accounts with an emergency session past its acknowledgement deadline whose
    ``emergency_unacknowledged`` finding is not raised yet; returns their AWS account ids.

    Beat runs it every minute, so the critical finding (and its alert) follows the deadline within a
    minute rather than at the next five-minute ``reconcile_all``. Once raised, the session is left
    alone: the query stays cheap however many old emergencies there are.
    """
    now = now or timezone.now()
    config = ReconcileConfig.from_settings()
    raised = Finding.objects.filter(kind=FindingKind.EMERGENCY_UNACKNOWLEDGED, session=OuterRef("pk"))
    due = (
        AccessRequest.objects.filter(emergency=True, checked_out_at__lte=now - config.emergency_ack)
        .filter(
            Q(emergency_acknowledged_at__isnull=True)
            | Q(emergency_acknowledged_at__gt=F("checked_out_at") + config.emergency_ack)
        )
        .exclude(Exists(raised))
    )
    ids = sorted(set(due.values_list("account__account_id", flat=True)))
    if ids:
        reconcile(account_ids=ids, now=now)
    return ids


def reconcile_account(scope: AccountScope, config: ReconcileConfig) -> int:
    """One account, inside the caller's transaction (and lock): events matched to the windows of its
    check-outs, then its findings brought in line. Returns how many findings were raised or changed."""
    sessions = _sessions(scope.account)
    windows = Windows([window_of(session, config) for session in sessions])
    events = list(
        RootEvent.objects.filter(aws_account_id=scope.aws_account_id)
        .defer("raw")
        .order_by("event_time", "pk")
    )
    keys = _key_matches(scope.aws_account_id, sessions)
    dirty = match_events(events, windows, now=scope.now, keys=keys)
    if dirty:
        RootEvent.objects.bulk_update(dirty, ["session", "in_scope", "updated_at"], batch_size=1000)
    calls = _match_calls(scope, keys)
    credential = (
        RootCredential.objects.filter(account=scope.account).first()
        if scope.account is not None and sessions
        else None
    )
    wanted = wanted_findings(
        aws_account_id=scope.aws_account_id,
        label=account_label(scope.aws_account_id, scope.account),
        events=events,
        sessions=sessions,
        credential=credential,
        now=scope.now,
        config=config,
        keys=keys,
        calls=calls,
    )
    changed = apply_findings(scope, wanted, {event.pk: event for event in events})
    # A drill's matched root sign-in is the proof its alarm chain works: record it and alert.
    observe_drills(sessions, events, now=scope.now)
    return changed


def _sessions(account: AwsAccount | None) -> list[AccessRequest]:
    """The account's check-outs, each with ``revoked_at`` (when it was revoked, if it was)."""
    if account is None:
        return []
    revoked = Transition.objects.filter(request=OuterRef("pk"), to_status=RequestStatus.REVOKED).order_by(
        "created_at"
    )
    return list(
        AccessRequest.objects.filter(account=account, checked_out_at__isnull=False)
        .select_related("requester", "account")
        .annotate(revoked_at=Subquery(revoked.values("created_at")[:1]))
        .order_by("checked_out_at", "pk")
    )


def _key_matches(aws_account_id: str, sessions: list[AccessRequest]) -> KeyMatches:
    """The AssumeRoot keys the portal issued for the account, and each session's own (two queries).

    ``IssuedRootKey`` is written before the credentials are used, so a session's key is known even
    when its run never stored an outcome; the run's own key is taken too.
    """
    by_code = {session.code: session for session in sessions}
    by_pk = {session.pk: session for session in sessions}
    issued = list(
        IssuedRootKey.objects.filter(account_id=aws_account_id).values_list(
            "access_key_id", "purpose", "reference"
        )
    )
    by_key: dict[str, AccessRequest] = {}
    for key, purpose, reference in issued:
        if purpose == "session" and reference in by_code:
            by_key[key] = by_code[reference]
    if by_pk:
        for key, request_id in (
            RootTaskRun.objects.filter(request_id__in=by_pk)
            .exclude(access_key_id="")
            .values_list("access_key_id", "request_id")
        ):
            by_key.setdefault(key, by_pk[request_id])
    return KeyMatches(sessions=by_key, portal=frozenset(key for key, _, _ in issued) | frozenset(by_key))


def _match_calls(scope: AccountScope, keys: KeyMatches) -> list[AssumeRootCall]:
    """The AssumeRoot calls that targeted the account, each tied to the session whose key it issued."""
    calls = list(AssumeRootCall.objects.filter(target_account_id=scope.aws_account_id).defer("raw"))
    dirty: list[AssumeRootCall] = []
    for call in calls:
        session = keys.sessions.get(call.access_key_id) if call.access_key_id else None
        session_id = session.pk if session is not None else None
        if call.session_id != session_id:
            call.session = session
            call.updated_at = scope.now
            dirty.append(call)
    if dirty:
        AssumeRootCall.objects.bulk_update(dirty, ["session", "updated_at"])
    return calls


def _all_account_ids() -> list[str]:
    found: set[str] = set(RootEvent.objects.values_list("aws_account_id", flat=True).distinct())
    found.update(AwsAccount.objects.values_list("account_id", flat=True))
    # AssumeRoot calls on accounts with no root event (yet) and no inventory entry still get checked.
    found.update(AssumeRootCall.objects.values_list("target_account_id", flat=True).distinct())
    found.discard("")
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
