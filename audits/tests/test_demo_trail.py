"""``seed_demo_trail`` (``make run``): sample root activity for the demo accounts, ingested through
the real pipeline, so the demo's findings and runs pages are not empty; a second run adds nothing."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from audits.choices import FindingKind
from audits.demo_trail import SAMPLE_EVENTS, sample_records
from audits.models import Finding, IngestionRun, RootEvent
from breakglass.demo import ACCOUNTS

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = StringIO()
    call_command("seed_demo_trail", stdout=out)
    return out.getvalue()


def test_the_sample_records_are_root_records_of_the_demo_accounts() -> None:
    demo_ids = {account[0] for account in ACCOUNTS}
    records = sample_records()
    assert len(records) == len(SAMPLE_EVENTS)
    assert all(r["userIdentity"]["type"] == "Root" and r["recipientAccountId"] in demo_ids for r in records)


def test_the_demo_trail_raises_findings_once(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())

    output = _run()

    assert "Loaded sample CloudTrail" in output
    assert RootEvent.objects.count() == len(SAMPLE_EVENTS)
    assert Finding.objects.filter(kind=FindingKind.UNAPPROVED_ROOT_USAGE).exists()
    assert IngestionRun.objects.count() == 1
    assert "already loaded" in _run()
    assert IngestionRun.objects.count() == 1
    assert RootEvent.objects.count() == len(SAMPLE_EVENTS)
