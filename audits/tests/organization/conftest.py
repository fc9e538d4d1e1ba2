"""An organization in moto (in-process), with ``iam:ListOrganizationsFeatures`` taught to it, and the
portal reaching it with one attempt per call (no backoff: failure tests stay fast)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest

from audits import aws_access
from audits.tests.organization_support import (
    FeaturesState,
    build_organization,
    install_organizations_features,
)

#: The organization most tests import: accounts at the root, in nested OUs, tagged and not.
LAYOUT: dict[str, Any] = {
    "accounts": [{"name": "Shared services", "email": "shared@example.com"}],
    "Workloads": {
        "Prod": {
            "accounts": [
                {
                    "name": "Payments",
                    "email": "payments@example.com",
                    "tags": {"Environment": "prod", "Team": "pay"},
                }
            ]
        },
        "Dev": {
            "accounts": [
                {"name": "Sandbox one", "email": "sandbox1@example.com", "tags": {"Environment": "sandbox"}}
            ]
        },
    },
    "Security": {"accounts": [{"name": "Log archive", "email": "logs@example.com"}]},
}


@pytest.fixture
def features() -> Iterator[FeaturesState]:
    state = FeaturesState(enabled=["RootCredentialsManagement", "RootSessions"])
    uninstall = install_organizations_features(state)
    try:
        yield state
    finally:
        uninstall()


@pytest.fixture
def one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    original = aws_access.management_settings
    monkeypatch.setattr(aws_access, "management_settings", lambda: replace(original(), max_attempts=1))


@pytest.fixture
def organizations(mocked_aws: None, features: FeaturesState, one_attempt: None) -> Any:
    return boto3.client("organizations", region_name="us-east-1")


@pytest.fixture
def org(organizations: Any) -> dict[str, str]:
    """The ``LAYOUT`` organization; account name -> id (the management account is "master")."""
    ids = build_organization(organizations, LAYOUT)
    ids["master"] = organizations.describe_organization()["Organization"]["MasterAccountId"]
    return ids
