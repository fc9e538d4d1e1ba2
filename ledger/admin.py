"""Admin pages for the ledger: for looking, never for changing.

The ledger is evidence. Nobody edits it, not even a superuser, so every permission except view
is refused here as well as in the model and (on PostgreSQL) in the database. ``ReadOnlyAdmin`` is
also what the evidence side (``audits.admin``) uses for its own read-only pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ledger.models import LedgerEntry, LedgerHead


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """View-only: no add, change or delete, and no bulk actions (the only default one deletes)."""

    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.get_fields() if field.concrete]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("sequence", "created_at", "actor_name", "action", "target_repr")
    list_display_links = ("sequence",)
    list_filter = ("action", "target_type", "created_at")
    search_fields = ("action", "target_id", "actor_name")
    date_hierarchy = "created_at"
    ordering = ("-sequence",)
    # The ledger only grows; counting every row for each search gets slower with it.
    show_full_result_count = False


@admin.register(LedgerHead)
class LedgerHeadAdmin(ReadOnlyAdmin):
    list_display = ("id", "last_sequence", "last_hash", "updated_at")
