"""Admin pages of the evidence side: ingestion sources (edited, each change in the ledger), runs and
findings (for looking only). The ledger's own admin is in ``ledger.admin``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audits.models import Finding, IngestionRun, IngestionSource, IssuedRootKey, RootAuditRun
from ledger import services as ledger
from ledger.admin import ReadOnlyAdmin

# --- CloudTrail evidence -------------------------------------------------------------------------


@admin.register(IngestionSource)
class IngestionSourceAdmin(admin.ModelAdmin[Any]):
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


# --- AssumeRoot ----------------------------------------------------------------------------------


@admin.register(IssuedRootKey)
class IssuedRootKeyAdmin(ReadOnlyAdmin):
    """Every AssumeRoot key the portal obtained (for looking only: reconciliation relies on them)."""

    list_display = ["issued_at", "access_key_id", "account_id", "task_code", "purpose", "reference"]
    list_filter = ["purpose", "task_code"]
    search_fields = ["access_key_id", "account_id", "reference"]


@admin.register(RootAuditRun)
class RootAuditRunAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "status", "accounts_done", "accounts_total", "accounts_failed"]
    list_filter = ["status"]
