"""Running the posture checks: read AWS, store each check's latest result, raise or resolve findings.

One account's trouble ends only that account's (or that check's) run: AWS failures arrive as answers
with a reason (``aws.py``) and become *error* results; anything unexpected in one account is logged
and recorded as an error on its checks, and the run goes on to the next account. Each account's
results and findings are written in one transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from audits.choices import PostureStatus
from audits.posture import aws
from audits.posture.checks import (
    AccountFacts,
    Outcome,
    Registered,
    contact_outcomes,
    organization_outcome,
    root_outcomes,
)
from audits.posture.controls import ACCOUNT_CHECKS, Check
from audits.posture.findings import apply_outcome
from audits.posture.models import PostureResult
from breakglass.choices import CustodyState, GovernanceMode, OrganizationState
from breakglass.models import AwsAccount

logger = logging.getLogger(__name__)

# Advisory-lock namespace of posture writes (the first key of pg_advisory_xact_lock(int, int)).
_POSTURE_LOCK_NAMESPACE = 0x50535401


@dataclass
class AccountRun:
    """What one account's check found, for the command's summary and the page's message."""

    account_id: str
    name: str
    statuses: Counter[str] = field(default_factory=Counter)
    changes: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # Why the account was not read at all (suspended or closed in AWS Organizations); not an error.
    skipped: str = ""


@dataclass
class PostureRun:
    accounts: list[AccountRun] = field(default_factory=list)
    organization: Outcome | None = None

    @property
    def errors(self) -> int:
        own = 1 if self.organization is not None and self.organization.status == PostureStatus.ERROR else 0
        return own + sum(1 for run in self.accounts if run.errors)

    @property
    def failing(self) -> int:
        own = 1 if self.organization is not None and self.organization.status == PostureStatus.FAIL else 0
        return own + sum(run.statuses[PostureStatus.FAIL] for run in self.accounts)


def facts_of(account: AwsAccount) -> AccountFacts:
    devices = tuple(
        Registered(kind=assignment.device.kind, serial=assignment.device.serial_number)
        for assignment in account.mfa_assignments.select_related("device")
        if assignment.device.custody_state != CustodyState.RETIRED
    )
    return AccountFacts(
        account_id=account.account_id,
        name=account.name,
        environment=account.environment,
        centralised=account.governance_mode == GovernanceMode.CENTRALISED,
        devices=devices,
    )


#: AWS Organizations states in which a member account's root cannot be read (AssumeRoot and the member
#: role both fail there), checked before any call so the reason is the state, not an AWS refusal.
UNREADABLE_STATES: dict[str, str] = {
    OrganizationState.SUSPENDED: "suspended",
    OrganizationState.PENDING_CLOSURE: "being closed",
    OrganizationState.CLOSED: "closed",
}


def posture_check_all(
    *, account_ids: list[str] | None = None, now: datetime | None = None, reference: str = ""
) -> PostureRun:
    """Check the organization's centralised root access, then every account (or the ones named).
    ``reference``: what the AssumeRoot keys of this run are recorded under (a run of its own by default)."""
    now = now or timezone.now()
    reference = reference or f"posture-{now:%Y%m%dT%H%M%SZ}"
    organization = aws.Organization()
    run = PostureRun()
    features = organization.features()
    run.organization = organization_outcome(features)
    with transaction.atomic():
        _take_turns(0)
        _store(None, run.organization, now)
        apply_outcome(outcome=run.organization, account=None, now=now)
    accounts = AwsAccount.objects.order_by("account_id")
    if account_ids is not None:
        accounts = accounts.filter(account_id__in=account_ids)
    for account in accounts:
        run.accounts.append(
            posture_check_account(
                account=account, organization=organization, features=features, now=now, reference=reference
            )
        )
    return run


def posture_check_account(
    *,
    account: AwsAccount,
    organization: aws.Organization,
    features: aws.Answer[frozenset[str]],
    now: datetime,
    reference: str = "",
) -> AccountRun:
    """Read, store and apply one account's checks; never raises for this account's trouble."""
    result = AccountRun(account_id=account.account_id, name=account.name)
    state = UNREADABLE_STATES.get(account.organization_state)
    try:
        if state is not None:
            result.skipped = (
                f"Not checked: the account is {state} in AWS Organizations, so its root cannot be read; "
                "its findings stay as they were."
            )
            outcomes = [Outcome(check, PostureStatus.ERROR, result.skipped) for check in ACCOUNT_CHECKS]
        else:
            facts = facts_of(account)
            # AssumeRoot needs root sessions on; auditing root credentials needs credentials management.
            centrally = facts.centralised and (features.value or frozenset()) >= aws.CENTRAL_FEATURES
            reading = aws.read_root(
                organization, account.account_id, assume_root=centrally, reference=reference
            )
            outcomes = root_outcomes(facts, reading) + contact_outcomes(
                facts, organization.contacts(account.account_id)
            )
    except Exception as exc:  # one account's surprise must not end the others' run
        logger.exception("posture check of %s failed", account.account_id)
        reason = f"Not checked: unexpected {type(exc).__name__} (see the worker's log)."
        outcomes = [Outcome(check, PostureStatus.ERROR, reason) for check in ACCOUNT_CHECKS]
    with transaction.atomic():
        _take_turns(account.pk)
        for outcome in outcomes:
            _store(account, outcome, now)
            change = apply_outcome(outcome=outcome, account=account, now=now)
            if change:
                result.changes[change] += 1
            result.statuses[outcome.status] += 1
            if outcome.status == PostureStatus.ERROR and not result.skipped:
                result.errors.append(f"{outcome.check}: {outcome.reason}")
            elif outcome.status == PostureStatus.FAIL:
                result.failures.append(outcome.check)
    return result


def _take_turns(key: int) -> None:
    """Two runs of one account at once (beat and "Check now") write its results in turn, so a
    finding is never raised twice under one dedupe key (``0``: the organization's own check). Until
    the transaction ends; SQLite, the single-worker development database, has no such lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_POSTURE_LOCK_NAMESPACE, key % (2**31)])


def _store(account: AwsAccount | None, outcome: Outcome, now: datetime) -> None:
    PostureResult.objects.update_or_create(
        account=account,
        check_name=outcome.check,
        defaults={
            "status": outcome.status,
            "reason": outcome.reason,
            "detail": outcome.detail,
            "checked_at": now,
        },
    )


__all__ = ["AccountRun", "Check", "PostureRun", "posture_check_account", "posture_check_all"]
