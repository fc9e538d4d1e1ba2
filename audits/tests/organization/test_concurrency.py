"""Two syncs at once (beat and an administrator's "sync now"): the apply step is serialised, so each
account is added once and the second sync finds nothing left to change."""

from __future__ import annotations

import pytest

from audits.choices import OrganizationChangeKind, SyncStatus, SyncTrigger
from audits.models import OrganizationChange
from audits.organization.service import organization_sync
from breakglass.models import AwsAccount
from ledger.models import LedgerEntry
from portal.testing import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_syncs_racing_add_each_account_once(org: dict[str, str]) -> None:
    results, errors = race(
        lambda: organization_sync(trigger=SyncTrigger.SCHEDULE),
        lambda: organization_sync(trigger=SyncTrigger.COMMAND),
    )

    assert not errors
    assert sorted(run.status for run in results) == [SyncStatus.SUCCEEDED, SyncStatus.SUCCEEDED]
    assert sorted(run.changes_made for run in results) == [0, 5]
    assert AwsAccount.objects.count() == 5
    assert OrganizationChange.objects.filter(kind=OrganizationChangeKind.ADDED).count() == 5
    assert LedgerEntry.objects.filter(action="organization.account_added").count() == 5
