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
    return {
        "nav": {
            "roles": sorted(role.value for role in policy.roles(user)),
            "inventory": policy.may_use_portal(user),
            "manage": policy.may_manage_inventory(user),
            "ledger": policy.may_view_ledger(user),
        }
    }
