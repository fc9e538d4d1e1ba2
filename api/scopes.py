"""Which scopes a person may put on a token: those whose pages their roles open today.

The same policy functions are asked again at every call (``api.auth.caller``), so a token never
outlives the role behind one of its scopes: it keeps the scope but the call is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from api.choices import Scope
from portal import policy

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

#: The policy question behind each scope (the page the scope reaches through the API).
SCOPE_POLICY: dict[Scope, Callable[[Any], bool]] = {
    Scope.READ_INVENTORY: policy.may_use_portal,
    Scope.READ_FINDINGS: policy.may_view_findings,
    Scope.WRITE_REQUESTS: policy.may_use_portal,
    Scope.TRIAGE_FINDINGS: policy.may_triage_findings,
    Scope.EXPORT_REPORTS: policy.may_export_reports,
}


def scopes_available(user: AnyUser) -> list[Scope]:
    """The scopes this person's roles allow now, in the order of ``Scope``."""
    return [scope for scope in Scope if SCOPE_POLICY[scope](user)]
