"""Read the AWS organization through boto3: every account with its state, OU path and tags, and
whether centralised root access is on. Nothing here touches the database.

The read is complete or it raises :class:`OrganizationReadError`: the service applies nothing from a
half-read organization (an account missing from a partial read would look as if it had left).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from audits.sources.aws import AwsSettings, client, describe_error, error_code, session

ROOT_CREDENTIALS_MANAGEMENT = "RootCredentialsManagement"
ROOT_SESSIONS = "RootSessions"
# What a call can fail with: AWS's refusal, the SDK's own errors (no credentials, connection lost,
# retries exhausted) and an answer that is not AWS's (a proxy's HTML error page).
AWS_FAILURES = (ClientError, BotoCoreError, ResponseParserError)
# IAM trusted access not enabled in Organizations: neither feature can be on.
_FEATURES_OFF_CODES = frozenset({"ServiceAccessNotEnabledException"})


class OrganizationReadError(RuntimeError):
    """The organization could not be read completely; ``reason`` is shown on the sync's page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OrganizationAccount:
    account_id: str
    name: str
    email: str
    state: str
    ou_path: str
    tags: dict[str, str]


@dataclass(frozen=True)
class RootAccessFeatures:
    """``iam:ListOrganizationsFeatures``; None where it could not be read, with ``reason``."""

    root_credentials_management: bool | None
    root_sessions: bool | None
    reason: str = ""


@dataclass(frozen=True)
class OrganizationSnapshot:
    organization_id: str
    management_account_id: str
    accounts: list[OrganizationAccount] = field(default_factory=list)
    features: RootAccessFeatures = RootAccessFeatures(None, None)


def account_state(described: dict[str, Any]) -> str:
    """The account's state from ``State``, else from the legacy ``Status``.

    ``Status`` (ACTIVE, SUSPENDED, PENDING_CLOSURE) is deprecated; its values are a subset of
    ``State``'s, which also knows PENDING_ACTIVATION and CLOSED. ``State`` wins where both are present.
    """
    return str(described.get("State") or described.get("Status") or "ACTIVE")


def read_organization(settings: AwsSettings) -> OrganizationSnapshot:
    """Walk the organization from its root, OU by OU; raise ``OrganizationReadError`` on any failure."""
    try:
        boto = session(settings)
        organizations = client("organizations", settings, boto_session=boto)
        described = organizations.describe_organization()["Organization"]
        accounts: list[OrganizationAccount] = []
        for root in _pages(organizations, "list_roots", "Roots"):
            accounts.extend(_walk(organizations, root["Id"], str(root.get("Name") or "Root")))
        features = _read_features(client("iam", settings, boto_session=boto))
    except AWS_FAILURES as exc:
        raise OrganizationReadError(_short(describe_error(exc))) from exc
    accounts.sort(key=lambda account: account.account_id)
    return OrganizationSnapshot(
        organization_id=str(described.get("Id", "")),
        management_account_id=str(described.get("MasterAccountId", "")),
        accounts=accounts,
        features=features,
    )


def _walk(organizations: Any, parent_id: str, path: str) -> Iterator[OrganizationAccount]:
    # Breadth of an organization is small (AWS allows five OU levels under the root), so recursion is
    # bounded; each level is paginated.
    for described in _pages(organizations, "list_accounts_for_parent", "Accounts", ParentId=parent_id):
        tags = {
            str(tag["Key"]): str(tag.get("Value", ""))
            for tag in _pages(organizations, "list_tags_for_resource", "Tags", ResourceId=described["Id"])
        }
        yield OrganizationAccount(
            account_id=str(described["Id"]),
            name=str(described.get("Name") or ""),
            email=str(described.get("Email") or ""),
            state=account_state(described),
            ou_path=path,
            tags=tags,
        )
    for unit in _pages(
        organizations, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent_id
    ):
        yield from _walk(organizations, unit["Id"], f"{path}/{unit.get('Name') or unit['Id']}")


def _pages(api: Any, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    for page in api.get_paginator(operation).paginate(**params):
        yield from page.get(key, [])


def _read_features(iam: Any) -> RootAccessFeatures:
    """Read centralised root access; a refusal here is recorded on the sync, not a failed sync."""
    try:
        enabled = set(iam.list_organizations_features().get("EnabledFeatures") or [])
    except AWS_FAILURES as exc:
        if error_code(exc) in _FEATURES_OFF_CODES:
            return RootAccessFeatures(False, False, describe_error(exc))
        return RootAccessFeatures(None, None, _short(describe_error(exc)))
    return RootAccessFeatures(ROOT_CREDENTIALS_MANAGEMENT in enabled, ROOT_SESSIONS in enabled)


def _short(reason: str) -> str:
    # A non-AWS answer can carry a whole HTML page; the first line says enough.
    first = reason.strip().splitlines()[0] if reason.strip() else reason
    return first[:300]
