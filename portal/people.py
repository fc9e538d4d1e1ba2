"""How the portal names a person to other people: one label everywhere a person is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

#: Who acted when no person did (expiry, reminders, reconciliation).
NOBODY = "system"


def person_label(user: AbstractBaseUser | AnonymousUser | None, *, nobody: str = NOBODY) -> str:
    """``Full Name (username)``, or the username alone when no name is recorded.

    The username is always there: it is what the identity provider and the ledger know the
    person by, while names repeat. ``nobody`` names the actor of what no person did.
    """
    if user is None or not user.is_authenticated:
        return nobody
    username = user.get_username()
    get_full_name = getattr(user, "get_full_name", None)
    full_name = str(get_full_name()).strip() if get_full_name is not None else ""
    return f"{full_name} ({username})" if full_name else username
