"""Template context shared by every page: what the navigation may show to this person."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal import policy

if TYPE_CHECKING:
    from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    # Each link is shown exactly when the policy lets its page open.
    uses_portal = policy.may_use_portal(user)
    return {
        "nav": {
            "roles": sorted(role.value for role in policy.roles(user)),
            "inventory": uses_portal,
            "approvals": uses_portal and policy.has_role(user, policy.Role.APPROVER),
            "custody": policy.may_view_devices(user),
            "manage": policy.may_manage_inventory(user),
            "administration": policy.may_view_people(user),
            "sources": policy.may_view_ingestion(user),
            "findings": policy.may_view_findings(user),
            "runs": policy.may_view_ingestion(user),
            "organization": policy.may_view_organization(user),
            "ledger": policy.may_view_ledger(user),
            "reports": policy.may_export_reports(user),
            "posture": policy.may_view_organization_posture(user),
        }
    }
