"""Every write of an ``IngestionSource`` from the portal's sources pages, each with its ledger entry
in the same transaction (the Django admin writes the same actions, ``audits.admin``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from audits.models import IngestionSource
from ledger import services as ledger

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _record(*, actor: User, action: str, source: IngestionSource, changed: list[str]) -> None:
    ledger.record(
        actor=actor,
        action=action,
        target=source,
        data={
            "kind": source.kind,
            "enabled": source.enabled,
            "schedule_seconds": source.schedule_seconds,
            # The config names buckets, queues and roles, never credentials (boto3 finds those).
            "config": source.config,
            "changed": changed,
        },
    )


def ingestion_source_create(
    *, actor: User, name: str, kind: str, config: dict[str, Any], schedule_seconds: int, enabled: bool
) -> IngestionSource:
    with transaction.atomic():
        source = IngestionSource(
            name=name, kind=kind, config=config, schedule_seconds=schedule_seconds, enabled=enabled
        )
        source.full_clean()
        source.save()
        _record(actor=actor, action="ingestion_source.created", source=source, changed=[])
    return source


def ingestion_source_update(
    *, actor: User, source: IngestionSource, name: str, config: dict[str, Any], schedule_seconds: int
) -> IngestionSource:
    """Change the name, config or schedule (not the kind: the cursors belong to the kind's units)."""
    with transaction.atomic():
        locked = IngestionSource.objects.select_for_update().get(pk=source.pk)
        changed = [
            field
            for field, value in (("name", name), ("config", config), ("schedule_seconds", schedule_seconds))
            if getattr(locked, field) != value
        ]
        if not changed:
            return locked
        locked.name, locked.config, locked.schedule_seconds = name, config, schedule_seconds
        locked.full_clean()
        locked.save()
        _record(actor=actor, action="ingestion_source.updated", source=locked, changed=changed)
    return locked


def ingestion_source_set_enabled(*, actor: User, source: IngestionSource, enabled: bool) -> IngestionSource:
    """Disable (beat stops reading it; its cursors are kept, so enabling resumes where it stopped)
    or enable a source."""
    with transaction.atomic():
        locked = IngestionSource.objects.select_for_update().get(pk=source.pk)
        if locked.enabled == enabled:
            return locked
        locked.enabled = enabled
        locked.save(update_fields=["enabled", "updated_at"])
        _record(
            actor=actor,
            action="ingestion_source.enabled" if enabled else "ingestion_source.disabled",
            source=locked,
            changed=["enabled"],
        )
    return locked
