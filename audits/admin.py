"""Admin pages for the ledger: for looking, never for changing.

The ledger is evidence. Nobody edits it, not even a superuser, so every permission except view
is refused here as well as in the model and (on PostgreSQL) in the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from audits import ledger
from audits.models import Finding, IngestionRun, IngestionSource, LedgerEntry, LedgerHead

if TYPE_CHECKING:
    # django-stubs makes these classes generic; Django's own are not subscriptable at run time.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = admin.ModelAdmin


class ReadOnlyAdmin(_ModelAdmin):
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


# --- CloudTrail evidence -------------------------------------------------------------------------


@admin.register(IngestionSource)
class IngestionSourceAdmin(_ModelAdmin):
    """Where CloudTrail is read from. The one evidence model edited here: every save and delete is
    written to the ledger in the admin's own transaction (``config`` holds no credentials)."""

    list_display = ["name", "kind", "enabled", "schedule_seconds"]
    list_filter = ["kind", "enabled"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        ledger.record(
            actor=request.user,
            action="ingestion_source.updated" if change else "ingestion_source.created",
            target=obj,
            data={
                "kind": obj.kind,
                "enabled": obj.enabled,
                "schedule_seconds": obj.schedule_seconds,
                "config": obj.config,
                "changed": list(form.changed_data),
            },
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        ledger.record(
            actor=request.user, action="ingestion_source.deleted", target=obj, data={"kind": obj.kind}
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for source in queryset:
            self.delete_model(request, source)


@admin.register(IngestionRun)
class IngestionRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "kind", "unit", "status", "files_read", "root_records", "findings_raised"]
    list_filter = ["kind", "status"]


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "severity", "status", "aws_account_id", "last_seen"]
    list_filter = ["kind", "severity", "status"]
    search_fields = ["code", "aws_account_id", "dedupe_key"]
