"""Permission-aware reads of the audit ledger, for its page and the ledger report (which share
:class:`LedgerFilter`, so the page and its export show the same entries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q

from ledger.models import LedgerEntry
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.models import QuerySet

#: Notification deliveries (sent, failed) outnumber decisions; the page and report show them apart.
DELIVERY_ACTIONS = Q(action__startswith="notification.")


@dataclass(frozen=True)
class LedgerFilter:
    """What the ledger page and report narrow the entries to; empty fields do not filter."""

    since: datetime | None = None
    until: datetime | None = None
    # The actor's username (as recorded in the entry, or of the linked user).
    person: str = ""
    action: str = ""
    # The 12-digit AWS account id an entry's data names.
    account_id: str = ""
    request_id: str = ""
    # "decisions" (everything but notification deliveries) or "deliveries".
    category: str = ""
    # Free text: found in the action, the actor's name or the target's name (any case), or equal to
    # the target's id or the request id.
    search: str = ""

    def as_q(self) -> Q:
        q = Q()
        if self.since is not None:
            q &= Q(created_at__gte=self.since)
        if self.until is not None:
            q &= Q(created_at__lte=self.until)
        if self.person:
            q &= Q(actor_name=self.person) | Q(actor__username=self.person)
        if self.action:
            q &= Q(action=self.action)
        if self.account_id:
            q &= Q(data__account_id=self.account_id) | Q(data__aws_account_id=self.account_id)
        if self.request_id:
            q &= Q(request_id=self.request_id)
        if self.category == "deliveries":
            q &= DELIVERY_ACTIONS
        elif self.category == "decisions":
            q &= ~DELIVERY_ACTIONS
        if self.search:
            text = self.search.strip()
            q &= (
                Q(action__icontains=text)
                | Q(actor_name__icontains=text)
                | Q(target_repr__icontains=text)
                | Q(target_id=text)
                | Q(request_id=text)
            )
        return q


def ledger_entries(
    *, user: AbstractBaseUser | AnonymousUser | None, filters: LedgerFilter | None = None
) -> QuerySet[LedgerEntry]:
    """Newest first; empty for anyone who may not read the ledger (None is the system)."""
    if user is not None and not policy.may_view_ledger(user):
        return LedgerEntry.objects.none()
    entries = LedgerEntry.objects.all()
    if filters is not None:
        entries = entries.filter(filters.as_q())
    return entries.order_by("-sequence")
