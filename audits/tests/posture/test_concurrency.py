"""Two posture runs of one account at once (beat and "Check now") raise each finding once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from audits import alerts
from audits.choices import FindingKind
from audits.models import Finding, PostureResult
from audits.posture.service import posture_check_all
from audits.tests.posture_support import RootPostureStore
from ledger.models import LedgerEntry
from portal.testing import race

pytestmark = pytest.mark.django_db(transaction=True)

MEMBER = "222222222222"


def test_concurrent_runs_raise_one_finding(
    posture_aws: RootPostureStore, make_account: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    create = alerts.finding_create
    first = threading.Event()

    def slow_create(**kwargs: Any) -> Any:
        # The first run to raise a finding holds its transaction open a while: the other run, reading
        # AWS meanwhile, reaches the same finding before this one commits.
        if not first.is_set():
            first.set()
            time.sleep(5)
        return create(**kwargs)

    monkeypatch.setattr(alerts, "finding_create", slow_create)
    make_account(MEMBER)
    posture_aws.root(MEMBER).mfa = False
    posture_aws.features = set()  # the organization's own finding is raced for too

    results, errors = race(
        lambda: posture_check_all(account_ids=[MEMBER]), lambda: posture_check_all(account_ids=[MEMBER])
    )

    assert errors == []
    assert len(results) == 2
    assert Finding.objects.filter(kind=FindingKind.ROOT_MFA_MISSING).count() == 1
    finding = Finding.objects.get(kind=FindingKind.ROOT_MFA_MISSING)
    assert LedgerEntry.objects.filter(action="finding.raised", target_id=str(finding.uuid)).count() == 1
    assert PostureResult.objects.filter(account__account_id=MEMBER, check_name="root_mfa").count() == 1
    assert Finding.objects.filter(kind=FindingKind.CENTRAL_ROOT_MANAGEMENT_OFF).count() == 1
    assert PostureResult.objects.filter(account__isnull=True).count() == 1
