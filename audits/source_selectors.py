"""Reads of the ingestion sources pages: each source with its latest run."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from audits.models import IngestionRun, IngestionSource
from portal import policy


def ingestion_sources(*, user: Any) -> QuerySet[IngestionSource]:
    """Every configured source, enabled first, with its latest run's status and time annotated."""
    if not policy.may_view_ingestion(user):
        return IngestionSource.objects.none()
    latest = IngestionRun.objects.filter(source=OuterRef("pk")).order_by("-started_at")
    return IngestionSource.objects.annotate(
        last_run_status=Subquery(latest.values("status")[:1]),
        last_run_at=Subquery(latest.values("started_at")[:1]),
        last_run_uuid=Subquery(latest.values("uuid")[:1]),
    ).order_by("-enabled", "name")


def ingestion_source_for(*, user: Any, uuid: UUID) -> IngestionSource:
    found = ingestion_sources(user=user).filter(uuid=uuid).first()
    if found is None:
        raise Http404("No such source.")
    return found
