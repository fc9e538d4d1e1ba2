"""A refused or throttled read ends the sync *failed* with the reason shown, and changes nothing; an
apply that fails half-way leaves nothing of itself behind."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.parsers import ResponseParserError

from audits.choices import SyncStatus, SyncTrigger
from audits.models import OrganizationChange
from audits.organization import aws, service
from audits.organization.service import organization_sync
from audits.sources.aws import AwsSettings, ConfigError
from audits.tests.organization_support import failing_organizations_call
from breakglass.models import AwsAccount
from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def sync() -> Any:
    return organization_sync(trigger=SyncTrigger.COMMAND)


@pytest.mark.parametrize(
    ("action", "code"),
    [
        ("describe_organization", "AccessDeniedException"),
        ("list_accounts_for_parent", "AccessDeniedException"),
        ("list_tags_for_resource", "TooManyRequestsException"),
        ("list_organizational_units_for_parent", "TooManyRequestsException"),
    ],
)
def test_a_failed_read_changes_nothing_and_says_why(org: dict[str, str], action: str, code: str) -> None:
    sync()
    AwsAccount.objects.filter(account_id=org["Payments"]).update(name="Renamed locally")
    entries = LedgerEntry.objects.count()

    with failing_organizations_call(action, code, "You are not allowed / rate exceeded"):
        run = sync()

    assert run.status == SyncStatus.FAILED
    assert code in run.reason
    assert "nothing was changed" in run.reason
    assert run.finished_at is not None
    # Not a half-read organization applied: nobody "left", nothing renamed back, no ledger entries.
    assert not AwsAccount.objects.filter(left_organization_at__isnull=False).exists()
    assert AwsAccount.objects.get(account_id=org["Payments"]).name == "Renamed locally"
    assert LedgerEntry.objects.count() == entries
    assert not run.changes.exists()


def test_throttling_is_retried_by_botocore_before_it_fails(org: dict[str, str]) -> None:
    """With retries (production's default is five attempts), one throttled call does not fail the sync."""
    retrying = AwsSettings(region="us-east-1", max_attempts=3)
    with failing_organizations_call("list_roots", "TooManyRequestsException", times=1) as served:
        run = organization_sync(trigger=SyncTrigger.COMMAND, aws=retrying)
    assert served == [1]
    assert run.status == SyncStatus.SUCCEEDED


def test_a_failure_while_applying_rolls_everything_back(org: dict[str, str], monkeypatch: Any) -> None:
    calls = {"n": 0}
    original = service._record

    def fail_on_third(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("database went away")
        return original(*args, **kwargs)

    monkeypatch.setattr(service, "_record", fail_on_third)
    run = sync()

    assert run.status == SyncStatus.FAILED
    assert "could not be applied" in run.reason
    assert AwsAccount.objects.count() == 0
    assert OrganizationChange.objects.count() == 0
    assert not LedgerEntry.objects.filter(action__startswith="organization.").exists()


def test_an_answer_that_is_not_aws_leaves_the_features_unknown_in_one_line() -> None:
    class NotAws:
        def list_organizations_features(self) -> None:
            raise ResponseParserError("Unable to parse response, invalid XML received:\n<!doctype html>...")

    features = aws._read_features(NotAws())

    assert (features.root_credentials_management, features.root_sessions) == (None, None)
    assert features.reason == "Unable to parse response, invalid XML received:"


def test_no_credentials_to_assume_the_role_with_is_a_visible_reason(monkeypatch: Any) -> None:
    def no_credentials(settings: Any) -> None:
        raise ConfigError("no AWS credentials found to assume the role with")

    monkeypatch.setattr(service, "read_organization", no_credentials)
    run = sync()
    assert run.status == SyncStatus.FAILED
    assert run.reason.endswith("no AWS credentials found to assume the role with")


def test_an_unexpected_error_is_named_not_quoted(monkeypatch: Any) -> None:
    def broken(settings: Any) -> None:
        raise RuntimeError("https://user:hunter2@proxy.example/")

    monkeypatch.setattr(service, "read_organization", broken)
    run = sync()
    assert run.status == SyncStatus.FAILED
    assert "RuntimeError" in run.reason
    assert "hunter2" not in run.reason
