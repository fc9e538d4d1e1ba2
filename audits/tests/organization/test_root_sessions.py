"""Which accounts AssumeRoot reaches (``AwsAccount.root_sessions_enabled``): the member accounts while
the organization has root sessions on, never the management account; unread features change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from audits.choices import SyncTrigger
from audits.organization.service import organization_sync
from breakglass.models import AwsAccount
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def reachable() -> set[str]:
    return set(AwsAccount.objects.filter(root_sessions_enabled=True).values_list("name", flat=True))


def test_members_are_reachable_while_root_sessions_are_on(org: dict[str, str], features: Any) -> None:
    organization_sync(trigger=SyncTrigger.COMMAND)
    assert reachable() == {"Shared services", "Payments", "Sandbox one", "Log archive"}
    entry = LedgerEntry.objects.get(action="organization.root_sessions_changed")
    assert entry.data["root_sessions"] is True
    assert org["master"] not in entry.data["reachable"]

    features.enabled = ["RootCredentialsManagement"]
    organization_sync(trigger=SyncTrigger.COMMAND)

    assert reachable() == set()
    assert LedgerEntry.objects.filter(action="organization.root_sessions_changed").count() == 2


@pytest.mark.filterwarnings("ignore:Exception\\(_IamError\\):UserWarning")
def test_features_that_could_not_be_read_leave_the_flags_as_they_were(
    org: dict[str, str], features: Any
) -> None:
    organization_sync(trigger=SyncTrigger.COMMAND)
    features.error_code = "AccessDenied"
    organization_sync(trigger=SyncTrigger.COMMAND)
    assert "Payments" in reachable()
