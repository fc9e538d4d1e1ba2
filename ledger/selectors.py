"""Permission-aware reads of the audit ledger, for its page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.models import LedgerEntry
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.models import QuerySet


def ledger_entries(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[LedgerEntry]:
    """Newest first; empty for anyone who may not read the ledger."""
    if not policy.may_view_ledger(user):
        return LedgerEntry.objects.none()
    return LedgerEntry.objects.order_by("-sequence")
