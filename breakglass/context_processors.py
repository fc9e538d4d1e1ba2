"""Template context for the navigation's counts (*Approvals 2*, *Custody 3*).

Here rather than in ``portal.context_processors`` because the counts read break-glass data and
portal's base imports no app. Computed once per rendered page, in at most three queries
(``breakglass.home_selectors.nav_counts``); nothing for anonymous visitors or people without a role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.functional import SimpleLazyObject

from breakglass import home_selectors

if TYPE_CHECKING:
    from django.http import HttpRequest


def nav_counts(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: a page that never draws the navigation (an export, a JSON answer) runs no query.
    return {"nav_counts": SimpleLazyObject(lambda: home_selectors.nav_counts(user=user))}
