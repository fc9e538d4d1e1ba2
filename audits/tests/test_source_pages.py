"""Ingestion sources pages: auditors read the list; administrators add and edit (step-up, the
config checked as its reader would read it), disable (a confirmation page and step-up) and enable;
each write is in the ledger."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audits.models import IngestionSource
from ledger.models import LedgerEntry
from portal.testing import step_up

pytestmark = pytest.mark.django_db

LIST = reverse("audits:source_list")
NEW = reverse("audits:source_create")
TRAIL = {"bucket": "org-trail", "prefix": "AWSLogs"}


@pytest.fixture
def admin(client: Client, administrator: Any) -> Client:
    client.force_login(administrator)
    step_up(client, administrator)
    return client


@pytest.fixture
def trail() -> IngestionSource:
    return IngestionSource.objects.create(name="org-trail", kind="s3", config=TRAIL, schedule_seconds=300)


def test_an_auditor_reads_the_list_without_the_actions(client: Client, auditor: Any, trail: Any) -> None:
    client.force_login(auditor)
    page = client.get(LIST).content.decode()
    assert "org-trail" in page
    assert "Enabled" in page
    assert "Disable…" not in page
    assert "Add a source" not in page
    step_up(client, auditor)
    assert client.get(NEW).status_code == 403


def test_an_administrator_adds_a_source_and_it_is_ledgered(admin: Client, administrator: Any) -> None:
    response = admin.post(
        NEW, {"name": "org-trail", "kind": "s3", "config": json.dumps(TRAIL), "schedule_seconds": 600}
    )
    assert response["Location"] == LIST
    source = IngestionSource.objects.get(name="org-trail")
    assert source.config == TRAIL
    assert source.enabled
    entry = LedgerEntry.objects.get(action="ingestion_source.created")
    assert entry.actor_id == administrator.pk
    assert entry.data["config"] == TRAIL


def test_a_config_its_reader_refuses_is_said_on_the_form(admin: Client) -> None:
    bad_json = admin.post(NEW, {"name": "x", "kind": "s3", "config": "{bucket", "schedule_seconds": 300})
    assert "Not JSON" in bad_json.content.decode()
    no_bucket = admin.post(NEW, {"name": "x", "kind": "s3", "config": "{}", "schedule_seconds": 300})
    assert "bucket" in no_bucket.content.decode()
    assert not IngestionSource.objects.exists()


def test_editing_changes_the_config_and_ledgers_what_changed(admin: Client, trail: Any) -> None:
    url = reverse("audits:source_edit", kwargs={"uuid": trail.uuid})
    assert "org-trail" in admin.get(url).content.decode()
    changed = {"bucket": "org-trail-2"}
    admin.post(
        url, {"name": "org-trail", "kind": "lookup", "config": json.dumps(changed), "schedule_seconds": 300}
    )
    trail.refresh_from_db()
    assert trail.config == changed
    assert trail.kind == "s3"  # the kind is fixed once added
    assert LedgerEntry.objects.get(action="ingestion_source.updated").data["changed"] == ["config"]


def test_disabling_asks_for_confirmation_and_step_up_then_enabling_resumes(
    client: Client, administrator: Any, trail: Any
) -> None:
    url = reverse("audits:source_disable", kwargs={"uuid": trail.uuid})
    client.force_login(administrator)
    without_step_up = client.post(url, {"confirmed": "yes"})
    assert without_step_up["Location"].startswith(reverse("mfa_reauthenticate"))
    trail.refresh_from_db()
    assert trail.enabled

    step_up(client, administrator)
    unconfirmed = client.post(url)
    assert unconfirmed.status_code == 200
    assert "Disable org-trail" in unconfirmed.content.decode()
    assert "Beat stops reading it" in unconfirmed.content.decode()
    trail.refresh_from_db()
    assert trail.enabled

    client.post(url, {"confirmed": "yes"})
    trail.refresh_from_db()
    assert not trail.enabled
    client.post(reverse("audits:source_enable", kwargs={"uuid": trail.uuid}))
    trail.refresh_from_db()
    assert trail.enabled
    actions = list(
        LedgerEntry.objects.filter(action__startswith="ingestion_source.").values_list("action", flat=True)
    )
    assert actions == ["ingestion_source.disabled", "ingestion_source.enabled"]
