"""Reads for the organization page: the syncs and what each changed. Auditors and administrators see
every account, so these take the user only to refuse everyone else."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.http import Http404

from audits.models import OrganizationChange, OrganizationSync
from breakglass.models import AwsAccount
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.models import QuerySet

    AnyUser = AbstractBaseUser | AnonymousUser


def syncs_visible_to(*, user: AnyUser) -> QuerySet[OrganizationSync]:
    if not policy.may_view_organization(user):
        return OrganizationSync.objects.none()
    return OrganizationSync.objects.select_related("triggered_by").order_by("-started_at", "-id")


def sync_for(*, user: AnyUser, uuid: UUID) -> OrganizationSync:
    sync = syncs_visible_to(user=user).filter(uuid=uuid).first()
    if sync is None:
        raise Http404("No such organization sync.")
    return sync


def sync_changes(*, sync: OrganizationSync) -> QuerySet[OrganizationChange]:
    return sync.changes.select_related("account").order_by("kind", "account__account_id")


def last_finished_sync(*, user: AnyUser) -> OrganizationSync | None:
    """The newest sync that ended (succeeded or failed): what "the last sync changed" means."""
    return syncs_visible_to(user=user).filter(finished_at__isnull=False).first()


def ungoverned_accounts(*, user: AnyUser) -> QuerySet[AwsAccount]:
    """Accounts the import found that nobody governs yet (left ones aside: nothing left to govern)."""
    if not policy.may_view_organization(user):
        return AwsAccount.objects.none()
    return AwsAccount.objects.filter(governed=False, left_organization_at__isnull=True).order_by("name")
