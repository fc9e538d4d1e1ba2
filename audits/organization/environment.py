"""Which environment an imported account belongs to: from one of its tags or from its OU path.

Pure (no Django): the service passes the setting values in. Names are matched case-insensitively on
the environment's value, its label and a few common short forms; nothing matching means "unknown",
and the service then keeps what the inventory says (production for a new account: the strictest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ALIASES = {
    "prod": "production",
    "prd": "production",
    "live": "production",
    "stage": "staging",
    "stg": "staging",
    "preprod": "staging",
    "dev": "development",
    "test": "development",
    "sbx": "sandbox",
    "sec": "security",
    "audit": "security",
    "log-archive": "security",
    "mgmt": "management",
}


def environment_from_name(name: str, known: Iterable[str]) -> str | None:
    """The environment a tag value or OU name stands for, or None."""
    word = name.strip().lower().replace("_", "-").replace(" ", "-")
    known_set = set(known)
    if word in known_set:
        return word
    alias = ALIASES.get(word)
    return alias if alias in known_set else None


def environment_for(
    *, source: str, tag_key: str, tags: Mapping[str, str], ou_path: str, known: Iterable[str]
) -> str | None:
    """``source`` is ``tag`` (the value of ``tag_key``) or ``ou`` (the deepest OU name that matches;
    the organization root itself is not an environment)."""
    known_list = list(known)
    if source == "tag":
        for key, value in tags.items():
            if key.lower() == tag_key.lower():
                return environment_from_name(value, known_list)
        return None
    for name in reversed(ou_path.split("/")[1:]):
        found = environment_from_name(name, known_list)
        if found is not None:
            return found
    return None
