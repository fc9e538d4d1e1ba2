"""Apply a read of the organization to the inventory: one sync run, one transaction.

``organization_sync`` records a run, reads the organization (``aws.read_organization``) and, only if
the read is complete, applies it in one transaction: new accounts are added *ungoverned*, known ones
are updated, accounts gone from the organization are marked as having left (never deleted), and every
change is an ``OrganizationChange`` row and a ledger entry. Applying the same organization twice
changes nothing and writes nothing to the ledger. A failed read or apply leaves the inventory as it
was and the run *failed* with its reason.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audits import aws_access
from audits.choices import OrganizationChangeKind as Kind
from audits.choices import SyncStatus, SyncTrigger
from audits.models import OrganizationChange, OrganizationSync
from audits.organization.aws import (
    OrganizationAccount,
    OrganizationReadError,
    OrganizationSnapshot,
    read_organization,
)
from audits.organization.environment import environment_for
from audits.sources.aws import AwsSettings, ConfigError
from breakglass.choices import Environment, OrganizationState
from breakglass.models import AwsAccount
from ledger import services as ledger
from portal import policy
from portal.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# Advisory-lock key of the apply step (pg_advisory_xact_lock(int, int)): two syncs never interleave,
# so the second one compares against what the first wrote and finds nothing left to change.
_LOCK_NAMESPACE = 0x0B6A
_LOCK_KEY = 1
_TEXT_LIMIT = 1000


@dataclass(frozen=True)
class _Change:
    kind: Kind
    before: str = ""
    after: str = ""


SYNC_TASK = "audits.tasks.sync_organization_run"


def organization_sync(
    *, trigger: SyncTrigger, actor: User | None = None, aws: AwsSettings | None = None
) -> OrganizationSync:
    """Read the organization and apply it now; returns the finished run (succeeded or failed)."""
    run = OrganizationSync.objects.create(trigger=trigger, triggered_by=actor)
    return organization_sync_execute(run=run, aws=aws)


def organization_sync_queue(*, actor: User) -> OrganizationSync:
    """An administrator's "sync now": a queued run a worker executes (never the web request)."""
    if not policy.may_manage_inventory(actor):
        raise DomainError("Only a portal administrator with MFA may sync the organization.")
    with transaction.atomic():
        run = OrganizationSync.objects.create(
            trigger=SyncTrigger.ON_DEMAND, triggered_by=actor, status=SyncStatus.QUEUED
        )
        transaction.on_commit(partial(_hand_to_worker, run.pk), robust=True)
    return run


def _hand_to_worker(run_id: int) -> None:
    try:
        current_app.signature(SYNC_TASK, args=(run_id,)).apply_async()
    except Exception as error:
        # Only the class name: a broker error's text may name the broker URL and its password.
        logger.warning("could not queue organization sync %s (%s)", run_id, type(error).__name__)
        OrganizationSync.objects.filter(pk=run_id, status=SyncStatus.QUEUED).update(
            status=SyncStatus.FAILED,
            reason="The sync could not be handed to a worker; nothing was changed. Try again later.",
            finished_at=timezone.now(),
        )


def organization_sync_execute(*, run: OrganizationSync, aws: AwsSettings | None = None) -> OrganizationSync:
    """Execute a created or queued run: read, then apply in one transaction."""
    if run.status == SyncStatus.QUEUED:
        run.status = SyncStatus.RUNNING
        run.save(update_fields=["status", "updated_at"])
    try:
        snapshot = read_organization(aws or aws_access.management_settings())
    except OrganizationReadError as exc:
        return _fail(run, f"The organization could not be read; nothing was changed. {exc.reason}")
    except Exception as exc:
        # Anything else (no credentials to assume the role with, a bug): the run still ends with a
        # reason instead of staying "running". Our own ConfigError's text is safe to show; any other
        # exception's text is only logged, since it could hold what the page must not show.
        logger.exception("organization sync %s could not read the organization", run.uuid)
        detail = str(exc) if isinstance(exc, ConfigError) else f"{type(exc).__name__} (see the worker's log)"
        return _fail(run, f"The organization could not be read; nothing was changed. {detail}")
    try:
        with transaction.atomic():
            _apply(run, snapshot, actor=run.triggered_by)
    except Exception as exc:
        # Everything of the apply rolled back together (accounts, changes, ledger entries).
        logger.exception("organization sync %s could not be applied", run.uuid)
        return _fail(
            run,
            "The organization was read but could not be applied; nothing was changed. "
            f"{type(exc).__name__} (see the worker's log)",
        )
    return run


def organization_syncs_sweep_stale(*, now: datetime | None = None) -> int:
    """Mark failed the syncs queued or running for longer than ``PORTAL_INGEST_STALE_MINUTES``: their
    worker died, or none picked them up. Nothing was applied (the apply commits with the run's end)."""
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.PORTAL_INGEST_STALE_MINUTES)
    return OrganizationSync.objects.filter(
        status__in=(SyncStatus.QUEUED, SyncStatus.RUNNING), updated_at__lt=cutoff
    ).update(
        status=SyncStatus.FAILED,
        reason="No worker finished this sync (it died, or none picked it up); nothing was changed.",
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def _fail(run: OrganizationSync, reason: str) -> OrganizationSync:
    run.status = SyncStatus.FAILED
    run.reason = reason[:2000]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "reason", "finished_at", "updated_at"])
    return run


def _apply(run: OrganizationSync, snapshot: OrganizationSnapshot, *, actor: User | None) -> None:
    with connection.cursor() as db:
        db.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, _LOCK_KEY])
    now = timezone.now()
    seen = {account.account_id: account for account in snapshot.accounts}
    known = {account.account_id: account for account in AwsAccount.objects.select_for_update()}
    changes = 0
    for account_id, found in seen.items():
        existing = known.get(account_id)
        if existing is None:
            account, account_changes = _add(found), [_Change(Kind.ADDED, after=_describe(found))]
        else:
            account, account_changes = existing, _update(existing, found)
        changes += _record(run, account, account_changes, actor=actor)
    for account_id, account in known.items():
        if account_id in seen or not account.organization_state or account.left_organization_at:
            continue  # never in the organization (entered by hand), or already marked as gone
        account.left_organization_at = now
        account.save(update_fields=["left_organization_at", "updated_at"])
        changes += _record(run, account, [_Change(Kind.LEFT, before=account.ou_path)], actor=actor)

    features = snapshot.features
    if features.root_sessions is not None:
        _set_root_sessions(run, snapshot, seen, enabled=features.root_sessions, actor=actor)
    run.status = SyncStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.organization_id = snapshot.organization_id
    run.management_account_id = snapshot.management_account_id
    run.accounts_seen = len(seen)
    run.changes_made = changes
    run.root_credentials_management = features.root_credentials_management
    run.root_sessions = features.root_sessions
    run.features_reason = features.reason[:500]
    run.save()


def _set_root_sessions(
    run: OrganizationSync,
    snapshot: OrganizationSnapshot,
    seen: dict[str, OrganizationAccount],
    *,
    enabled: bool,
    actor: User | None,
) -> None:
    """Which accounts ``sts:AssumeRoot`` reaches (``AwsAccount.root_sessions_enabled``, what the
    request form offers): the member accounts, while the organization has root sessions on. AssumeRoot
    never targets the management account. Unread features (None) leave the flags as they were."""
    reach = {a for a in seen if a != snapshot.management_account_id} if enabled else set()
    gained = list(
        AwsAccount.objects.filter(account_id__in=reach, root_sessions_enabled=False).values_list(
            "account_id", flat=True
        )
    )
    lost = list(
        AwsAccount.objects.exclude(account_id__in=reach)
        .filter(root_sessions_enabled=True)
        .values_list("account_id", flat=True)
    )
    if not gained and not lost:
        return
    AwsAccount.objects.filter(account_id__in=gained).update(root_sessions_enabled=True)
    AwsAccount.objects.filter(account_id__in=lost).update(root_sessions_enabled=False)
    ledger.record(
        actor=actor,
        action="organization.root_sessions_changed",
        target_type="audits.OrganizationSync",
        target_id=str(run.uuid),
        target_repr=f"organization sync {run.uuid}",
        data={"root_sessions": enabled, "reachable": sorted(gained), "unreachable": sorted(lost)},
    )


def _environment(found: OrganizationAccount) -> str | None:
    return environment_for(
        source=settings.PORTAL_ORG_ENVIRONMENT_FROM,
        tag_key=settings.PORTAL_ORG_ENVIRONMENT_TAG,
        tags=found.tags,
        ou_path=found.ou_path,
        known=Environment.values,
    )


def _add(found: OrganizationAccount) -> AwsAccount:
    account = AwsAccount(
        account_id=found.account_id,
        name=found.name[:100] or found.account_id,
        root_email=found.email,
        # Unknown environment: production, the strictest, until an administrator says otherwise.
        environment=_environment(found) or Environment.PRODUCTION,
        governed=False,
        organization_state=found.state,
        ou_path=found.ou_path[:_TEXT_LIMIT],
        organization_tags=found.tags,
    )
    account.save()
    return account


def _update(account: AwsAccount, found: OrganizationAccount) -> list[_Change]:
    """Bring ``account`` in line with the organization; the changes made, in the page's words."""
    changes: list[_Change] = []
    linked = not account.organization_state
    if linked:
        changes.append(_Change(Kind.LINKED, after=_describe(found)))
    if account.left_organization_at is not None:
        changes.append(_Change(Kind.RETURNED, after=found.ou_path))
        account.left_organization_at = None
    name = found.name[:100] or account.name
    if name != account.name:
        changes.append(_Change(Kind.RENAMED, before=account.name, after=name))
        account.name = name
    if found.email and found.email.lower() != account.root_email.lower():
        before = account.root_email_masked
        account.root_email = found.email
        changes.append(_Change(Kind.EMAIL_CHANGED, before=before, after=account.root_email_masked))
    ou_path = found.ou_path[:_TEXT_LIMIT]
    if ou_path != account.ou_path:
        if not linked:
            changes.append(_Change(Kind.MOVED, before=account.ou_path, after=ou_path))
        account.ou_path = ou_path
    if found.state != account.organization_state:
        if not linked:
            changes.append(_Change(Kind.STATE_CHANGED, before=account.organization_state, after=found.state))
        account.organization_state = found.state
    if found.tags != account.organization_tags:
        if not linked:
            changes.append(
                _Change(Kind.TAGS_CHANGED, before=_tags(account.organization_tags), after=_tags(found.tags))
            )
        account.organization_tags = found.tags
    environment = _environment(found)
    if environment is not None and environment != account.environment:
        changes.append(_Change(Kind.ENVIRONMENT_CHANGED, before=account.environment, after=environment))
        account.environment = environment
    if changes:
        account.save()
    return changes


def _record(run: OrganizationSync, account: AwsAccount, changes: list[_Change], *, actor: User | None) -> int:
    for change in changes:
        before, after = change.before[:_TEXT_LIMIT], change.after[:_TEXT_LIMIT]
        OrganizationChange.objects.create(
            sync=run, account=account, kind=change.kind, before=before, after=after
        )
        data: dict[str, Any] = {"sync": str(run.uuid), "account_id": account.account_id}
        if before:
            data["before"] = before
        if after:
            data["after"] = after
        ledger.record(actor=actor, action=f"organization.account_{change.kind}", target=account, data=data)
    return len(changes)


def _describe(found: OrganizationAccount) -> str:
    state = OrganizationState(found.state).label if found.state in OrganizationState.values else found.state
    return f"{found.name} · {state} · {found.ou_path}"


def _tags(tags: dict[str, str]) -> str:
    return json.dumps(tags, sort_keys=True, ensure_ascii=False)
