"""The findings in words an on-call engineer understands. Pure: no database.

Every summary, automatic triage note and alert subject that reconciliation writes is worded here, so
what is decided (``audits.reconcile.wanted``) and how it reads can change apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from audits.choices import FindingKind
from audits.models import RootEvent
from breakglass.choices import RequestStatus
from breakglass.models import AccessRequest, AwsAccount
from breakglass.root_tasks import task_title
from portal.people import person_label

K = FindingKind

__all__ = [
    "account_label",
    "assume_root_unbrokered_summary",
    "at",
    "checkout_overdue_summary",
    "emergency_unacknowledged_summary",
    "emergency_unreviewed_summary",
    "failed_logins_summary",
    "iso",
    "outside_scope_summary",
    "per_event_summary",
    "person",
    "reopen_note",
    "reopen_reason",
    "resolve_note",
    "rotation_overdue_summary",
    "short_account_label",
    "unapproved_summary",
]


# --- Pieces --------------------------------------------------------------------------------------


def account_label(aws_account_id: str, account: AwsAccount | None) -> str:
    """The account as a summary names it, inside a sentence."""
    if account is not None:
        return f"{account.name} ({account.account_id})"
    return f"AWS account {aws_account_id}, which is not in the portal's inventory,"


def short_account_label(aws_account_id: str, account: AwsAccount | None) -> str:
    """The account as an alert's subject names it."""
    if account is not None:
        return f"{account.name} ({account.account_id})"
    return f"{aws_account_id} (not in the inventory)"


def at(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def person(session: AccessRequest) -> str:
    return person_label(session.requester)


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


# --- Summaries -----------------------------------------------------------------------------------


def assume_root_unbrokered_summary(
    *, key: str, label: str, caller: str, policy_arn: str, called_at: datetime | None, events: list[RootEvent]
) -> str:
    """sts:AssumeRoot credentials the portal did not issue, and what was done with them."""
    task = policy_arn.rsplit("/", 1)[-1] if policy_arn else "an unknown task policy"
    if caller:
        when = f" at {at(called_at)}" if called_at is not None else ""
        head = (
            f"sts:AssumeRoot on {label} was called outside the portal by {caller}{when} ({task}, key {key})"
        )
    else:
        head = (
            f"Root of {label} acted with AssumeRoot credentials the portal did not issue (key {key}); "
            "the management account's AssumeRoot record has not arrived, so the caller is not known yet"
        )
    if not events:
        return f"{head}: no request, no approval. No action made with the key has arrived yet."
    return (
        f"{head}: no request, no approval. {len(events)} root action(s) made with the key: "
        f"{_names(events)}{_from(events)}, {at(events[0].event_time)} to {at(events[-1].event_time)}."
    )


def per_event_summary(kind: str, event: RootEvent, label: str) -> str:
    """A finding one record raises on its own (``RootEvent.record_finding_kinds``)."""
    session = event.session if event.session_id is not None else None
    during = f" during check-out {session.code}" if session is not None else " with no check-out covering it"
    where = f" from {event.source_ip}" if event.source_ip else ""
    when = f"at {at(event.event_time)}{where}{during}{_via(event)}"
    if kind == K.ROOT_LOGIN_WITHOUT_MFA:
        return f"Root of {label} signed in to the console without MFA {when}."
    if kind == K.ROOT_ACCESS_KEY_CREATED:
        return f"Root of {label} created an access key for itself {when}; root access keys must not exist."
    if kind == K.ROOT_CLOUDTRAIL_TAMPERING:
        outcome = "" if event.succeeded else " (the call failed, but whoever made it holds root)"
        return f"Root of {label} called CloudTrail {event.event_name} {when}{outcome}: logging may be off."
    if kind == K.ROOT_PASSWORD_RECOVERY:
        return f"Root of {label} recovered or changed its password ({event.event_name}) {when}."
    return f"Root of {label} changed its MFA devices ({event.event_name}) {when}."


def unapproved_summary(events: list[RootEvent], label: str) -> str:
    """A day's root actions in one account outside every check-out window."""
    first, last = events[0], events[-1]
    if len(events) == 1:
        what = f"{first.event_name} at {at(first.event_time)}"
    else:
        what = (
            f"{len(events)} actions on {first.event_time.astimezone(UTC):%Y-%m-%d} between "
            f"{first.event_time.astimezone(UTC):%H:%M:%S} and {last.event_time.astimezone(UTC):%H:%M:%S} "
            f"UTC ({_names(events)})"
        )
    return f"Root of {label} was used without an approved check-out: {what}{_from(events)}{_via(*events)}."


def failed_logins_summary(events: list[RootEvent], label: str, *, burst: bool) -> str:
    """An hour's failed root sign-ins in one account."""
    first, last = events[0], events[-1]
    count = len(events)
    when = (
        f"at {at(first.event_time)}"
        if count == 1
        else f"between {at(first.event_time)} and {last.event_time.astimezone(UTC):%H:%M:%S} UTC"
    )
    why = " (a burst: someone may be guessing the password)" if burst else ""
    noun = "sign-in" if count == 1 else "sign-ins"
    return f"{count} failed root {noun} to {label} {when}{_from(events)}{why}."


def outside_scope_summary(session: AccessRequest, events: list[RootEvent], label: str) -> str:
    """A session's root actions that its declared task does not need."""
    title = task_title(session.root_task)
    count = len(events)
    noun = "action" if count == 1 else "actions"
    return (
        f"During check-out {session.code} of the root of {label} by {person(session)} for "
        f'"{title}", root made {count} {noun} that task does not need ({_names(events)}), '
        f"first at {at(events[0].event_time)}."
    )


def checkout_overdue_summary(
    session: AccessRequest, label: str, *, due: datetime, ended: datetime | None
) -> str:
    """A check-out past its due time: still out (``ended`` None) or returned late."""
    if ended is None:
        how = "and is still checked out"
    else:
        minutes = int((ended - due).total_seconds() // 60)
        verb = (
            "revoked" if session.status == RequestStatus.REVOKED and not session.checked_in_at else "returned"
        )
        how = f"and was {verb} {minutes} minutes late, at {at(ended)}"
    return (
        f"Check-out {session.code} of the root of {label} by {person(session)} "
        f"was due back at {at(due)} {how}."
    )


def rotation_overdue_summary(
    session: AccessRequest, label: str, *, hours: int, ended: datetime, rotated: datetime | None
) -> str:
    """A returned root password not confirmed rotated within ``hours``."""
    after = f"; it was rotated at {at(rotated)}" if rotated is not None else " and still is not"
    return (
        f"The root password of {label} was not confirmed rotated within {hours} hours "
        f"of the end of check-out {session.code} by {person(session)} at {at(ended)}{after}."
    )


def emergency_unreviewed_summary(
    session: AccessRequest, label: str, *, hours: int, approved: datetime | None
) -> str:
    """A self-authorised emergency session still without its approvals ``hours`` later."""
    assert session.checked_out_at is not None
    after = f"; they came at {at(approved)}" if approved is not None else ""
    return (
        f"Emergency check-out {session.code} of the root of {label} by {person(session)}, "
        f"self-authorised at {at(session.checked_out_at)}, had no approvals {hours} hours later{after}."
    )


def emergency_unacknowledged_summary(
    session: AccessRequest, label: str, *, minutes: int, acknowledged: datetime | None
) -> str:
    """A self-authorised emergency session no second person acknowledged within ``minutes``."""
    assert session.checked_out_at is not None
    after = f"; it was acknowledged late, at {at(acknowledged)}" if acknowledged is not None else ""
    return (
        f"Emergency check-out {session.code} of the root of {label} by {person(session)}, "
        f"self-authorised at {at(session.checked_out_at)}, was not acknowledged by an approver or "
        f"custodian within {minutes} minutes{after}."
    )


# --- Triage notes and alerts ---------------------------------------------------------------------


def resolve_note(kind: str, session_codes: list[str]) -> str:
    """Why reconciliation resolved a finding that no longer applies."""
    if kind == K.UNAPPROVED_ROOT_USAGE and session_codes:
        return f"Resolved automatically: matched to session {', '.join(session_codes)} on re-evaluation."
    if kind == K.ROOT_ACTIVITY_OUTSIDE_SCOPE:
        return "Resolved automatically: no out-of-scope root actions remain in the session on re-evaluation."
    return "Resolved automatically: no longer applies on re-evaluation."


def reopen_reason(*, gained_events: bool) -> str:
    """Why reconciliation reopened a finding (also the ledger entry's ``reason``)."""
    return "new root events arrived" if gained_events else "it applies again on re-evaluation"


def reopen_note(reason: str) -> str:
    return f"Reopened automatically: {reason}."
