"""Who holds which role, and what each role may do across the portal.

Roles are Django groups (created by a migration in ``breakglass``); rights on a single account are
data (grants, approvers, custodians), so the rules about one account or one request live with that
data: who may act on a request in ``breakglass.rules``, which accounts a person sees in
``breakglass.selectors``. Functions here are pure questions: they never write, and they import no
app of the project. Anything not explicitly allowed is refused (fail closed).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from django.db.models import Q

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


class Role(enum.StrEnum):
    REQUESTER = "Requester"
    APPROVER = "Approver"
    CUSTODIAN = "Custodian"
    AUDITOR = "Auditor"
    ADMINISTRATOR = "Administrator"


#: Roles whose holders cannot use the portal until they have enrolled an MFA authenticator: every
#: role. Requesters too: they receive root passwords and MFA devices, and an emergency grant skips
#: the approvers, so a password alone must never be enough (issue 8, item 1).
MFA_REQUIRED_ROLES = frozenset(Role)

_ROLE_CACHE = "_portal_roles"
_MFA_CACHE = "_portal_has_mfa"


def roles(user: AnyUser) -> frozenset[Role]:
    """The roles a person holds; a superuser counts as an administrator. Cached per user object."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, _ROLE_CACHE, None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        found = {role for role in Role if role.value in names}
        if getattr(user, "is_superuser", False):
            found.add(Role.ADMINISTRATOR)
        cached = frozenset(found)
        setattr(user, _ROLE_CACHE, cached)
    return cached


def forget_roles(user: Any) -> None:
    """Drop the cached roles (after group membership changed in the same request)."""
    if hasattr(user, _ROLE_CACHE):
        delattr(user, _ROLE_CACHE)


def has_role(user: AnyUser, *wanted: Role) -> bool:
    return bool(roles(user) & set(wanted))


def requires_mfa(user: AnyUser) -> bool:
    return bool(roles(user) & MFA_REQUIRED_ROLES)


def has_mfa(user: AnyUser) -> bool:
    # Imported here, not at the top: allauth's MFA utilities import its models, and this module is
    # imported before the app registry is ready (by the root conftest, through the decorators).
    from allauth.mfa.utils import is_mfa_enabled

    if not user.is_authenticated:
        return False
    # Asked by every guard and template check on a page (9 to 17 times, issue 13): remember a yes
    # on the user object, which lives for one request. Only a yes: a person enrolling in this
    # request is seen at once, and a removal is seen from the next request on (the removal view
    # redirects), so the cache never admits anyone for longer than the request that removed it.
    if getattr(user, _MFA_CACHE, False):
        return True
    enabled = bool(is_mfa_enabled(user))
    if enabled:
        setattr(user, _MFA_CACHE, True)
    return enabled


def may_use_portal(user: AnyUser) -> bool:
    """Signed in, holds at least one role and, where the role demands it, has MFA."""
    held = roles(user)
    if not held:
        return False
    return not (held & MFA_REQUIRED_ROLES) or has_mfa(user)


# --- Inventory ------------------------------------------------------------------------------


def sees_every_account(user: AnyUser) -> bool:
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


def may_manage_inventory(user: AnyUser) -> bool:
    """Create and edit accounts, credentials, MFA devices and grants."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR)


def may_view_ledger(user: AnyUser) -> bool:
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


def may_export_reports(user: AnyUser) -> bool:
    """Export the auditors' reports (sessions, root activity, findings, access, the ledger), which
    cover every account: auditors and administrators."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


def may_view_devices(user: AnyUser) -> bool:
    """The custody board of MFA devices: those who keep, manage or audit them."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR, Role.CUSTODIAN)


# --- Findings ------------------------------------------------------------------------------------


def may_view_all_findings(user: AnyUser) -> bool:
    """Auditors and administrators see every finding, those of unknown accounts included."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


def visible_findings_filter(user: AnyUser) -> Q:
    """A filter on ``audits.Finding``: all for auditors and administrators; for approvers and
    custodians, the findings of the accounts they answer for; nothing for anyone else."""
    if not may_use_portal(user):
        return Q(pk__in=[])
    if may_view_all_findings(user):
        return Q()
    return Q(account__approvers=user) | Q(account__custodians=user)


def may_triage_findings(user: AnyUser) -> bool:
    """Acknowledge, resolve or mark a finding a false positive: auditors and administrators."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


def may_view_ingestion(user: AnyUser) -> bool:
    """Ingestion runs (what was read, what was rejected): auditors and administrators."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


def may_view_findings(user: AnyUser) -> bool:
    """Open the findings pages: auditors and administrators (all findings), approvers and custodians
    (the findings of their accounts, through ``visible_findings_filter``)."""
    return may_use_portal(user) and has_role(
        user, Role.ADMINISTRATOR, Role.AUDITOR, Role.APPROVER, Role.CUSTODIAN
    )


def may_view_organization(user: AnyUser) -> bool:
    """The organization import's page (what each sync changed): auditors and administrators. Only
    administrators (``may_manage_inventory``) may start a sync from it."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


def may_upload_logs(user: AnyUser) -> bool:
    """Upload a CloudTrail log file for ingestion: auditors and administrators."""
    return may_use_portal(user) and has_role(user, Role.ADMINISTRATOR, Role.AUDITOR)


# --- Root posture ----------------------------------------------------------------------------------


def may_view_posture(user: AnyUser) -> bool:
    """The posture pages: whoever may see findings (auditors and administrators every account;
    approvers and custodians the accounts they answer for, through the account selector)."""
    return may_view_findings(user)


def may_view_organization_posture(user: AnyUser) -> bool:
    """The organization's scoreboard covers every account: auditors and administrators."""
    return may_view_all_findings(user)


def may_set_alternate_contacts(user: AnyUser) -> bool:
    """Set an account's alternate contacts in AWS, or ask for a posture check now: administrators."""
    return may_manage_inventory(user)


def may_run_root_audit(user: AnyUser) -> bool:
    """Run the AssumeRoot credentials audit across every centralised account: administrators (it
    obtains root sessions in every member account, read-only ones)."""
    return may_manage_inventory(user)
