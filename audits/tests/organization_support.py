"""moto extended for the organization import's tests, and a builder of organizations to import.

* ``install_organizations_features``: moto 5 has no ``iam:ListOrganizationsFeatures``. This adds it to
  moto's IAM responses (in-process and through the server alike, as ``aws_support`` does for
  ``LookupEvents``), answering from a ``FeaturesState`` the test sets: the enabled features, or the
  error AWS would raise (``ServiceAccessNotEnabledException``, ``AccessDenied``...). Without an
  organization it raises ``OrganizationNotFoundException`` as AWS does.
* ``failing_organizations_call``: make one Organizations action fail with an AWS error code
  (``AccessDeniedException``, ``TooManyRequestsException``) for the next ``times`` calls.
* ``build_organization``: an organization made through boto3 (OUs, accounts, tags), as a test states it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import JsonRESTError, ServiceException
from moto.core.responses import ActionResult
from moto.iam.responses import IamResponse
from moto.organizations.models import organizations_backends
from moto.organizations.responses import OrganizationsResponse

DEFAULT_ACCOUNT = "123456789012"  # moto's account for credentials it did not issue


@dataclass
class FeaturesState:
    enabled: list[str] = field(default_factory=list)
    error_code: str | None = None
    error_message: str = "refused"


_features: FeaturesState | None = None


def install_organizations_features(state: FeaturesState) -> Any:
    """Teach moto ``iam:ListOrganizationsFeatures``; returns the function that takes it away."""
    global _features
    _features = state
    IamResponse.list_organizations_features = _list_organizations_features  # type: ignore[attr-defined]

    def uninstall() -> None:
        global _features
        _features = None
        if "list_organizations_features" in vars(IamResponse):
            del IamResponse.list_organizations_features  # type: ignore[attr-defined]

    return uninstall


class _IamError(ServiceException):
    """An IAM error; moto serialises it in IAM's query (XML) protocol from ``code`` and ``message``."""


def _list_organizations_features(self: IamResponse) -> ActionResult:
    state = _features
    if state is None:
        raise NotImplementedError("ListOrganizationsFeatures is only available inside its fixture")
    if state.error_code:
        raise _IamError(state.error_code, state.error_message)
    backend = organizations_backends[self.current_account][self.partition]
    if backend.org is None:
        raise _IamError("OrganizationNotFoundException", "The caller is not in an organization.")
    return ActionResult({"OrganizationId": backend.org.id, "EnabledFeatures": list(state.enabled)})


@contextmanager
def failing_organizations_call(
    action: str, code: str, message: str = "refused", times: int | None = None
) -> Iterator[list[int]]:
    """``action`` (moto's method name, e.g. ``list_accounts_for_parent``) fails with ``code``; yields a
    one-item list counting the failures served. ``times=None``: every call fails."""
    original = getattr(OrganizationsResponse, action)
    served = [0]

    def failing(self: OrganizationsResponse) -> str:
        if times is None or served[0] < times:
            served[0] += 1
            raise JsonRESTError(code, message)
        return str(original(self))

    setattr(OrganizationsResponse, action, failing)
    try:
        yield served
    finally:
        setattr(OrganizationsResponse, action, original)


def build_organization(organizations: Any, layout: dict[str, Any]) -> dict[str, str]:
    """Create an organization from ``layout``: ``{"OU name": {...nested...}, "accounts": [spec]}``
    where an account spec is ``{"name", "email", "tags": {...}}``. Returns account name -> id."""
    organizations.create_organization(FeatureSet="ALL")
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    ids: dict[str, str] = {}
    _build(organizations, root_id, layout, ids)
    return ids


def _build(organizations: Any, parent_id: str, layout: dict[str, Any], ids: dict[str, str]) -> None:
    for spec in layout.get("accounts", []):
        status = organizations.create_account(AccountName=spec["name"], Email=spec["email"])
        account_id = status["CreateAccountStatus"]["AccountId"]
        ids[spec["name"]] = account_id
        root_id = organizations.list_roots()["Roots"][0]["Id"]
        if parent_id != root_id:
            organizations.move_account(
                AccountId=account_id, SourceParentId=root_id, DestinationParentId=parent_id
            )
        if spec.get("tags"):
            organizations.tag_resource(
                ResourceId=account_id, Tags=[{"Key": k, "Value": v} for k, v in spec["tags"].items()]
            )
    for name, child in layout.items():
        if name == "accounts":
            continue
        unit = organizations.create_organizational_unit(ParentId=parent_id, Name=name)
        _build(organizations, unit["OrganizationalUnit"]["Id"], child, ids)


def set_account_state(account_id: str, state: str, *, legacy_status: str | None = None) -> None:
    """Put a moto account into a state moto cannot reach through the API (PENDING_CLOSURE, CLOSED)."""
    backend = organizations_backends[DEFAULT_ACCOUNT]["aws"]
    account = backend.get_account_by_id(account_id)
    account.state = state
    account.status = legacy_status or ("SUSPENDED" if state == "CLOSED" else state)
