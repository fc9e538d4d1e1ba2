"""Strict parsing of configuration from environment variables.

A typo in production configuration must stop start-up with a message naming the variable,
never silently fall back to a default (``DJANGO_DEBUG=flase`` must not mean "debug off" by luck).
"""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Mapping

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigurationError(RuntimeError):
    """Raised when an environment variable holds a value that cannot be used."""


class Env:
    """Reads typed values from a mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[builtins.str, builtins.str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def _raw(self, name: builtins.str) -> builtins.str | None:
        value = self._environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def str(self, name: builtins.str, default: builtins.str | None = None) -> builtins.str:
        value = self._raw(name)
        if value is None:
            if default is None:
                raise ConfigurationError(f"{name} must be set")
            return default
        return value

    def optional_str(self, name: builtins.str) -> builtins.str | None:
        return self._raw(name)

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigurationError(f"{name} must be one of true/false, yes/no, on/off, 1/0; got {value!r}")

    def int(
        self, name: builtins.str, default: builtins.int, *, minimum: builtins.int | None = None
    ) -> builtins.int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            parsed = int(value)
        except ValueError:
            raise ConfigurationError(f"{name} must be an integer; got {value!r}") from None
        if minimum is not None and parsed < minimum:
            raise ConfigurationError(f"{name} must be at least {minimum}; got {parsed}")
        return parsed

    def list(
        self, name: builtins.str, default: list[builtins.str] | None = None
    ) -> builtins.list[builtins.str]:
        value = self._raw(name)
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(
        self, name: builtins.str, default: builtins.str, choices: tuple[builtins.str, ...]
    ) -> builtins.str:
        value = self._raw(name) or default
        if value not in choices:
            raise ConfigurationError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
        return value

    def group_map(
        self, name: builtins.str, allowed: tuple[builtins.str, ...]
    ) -> dict[builtins.str, tuple[builtins.str, ...]]:
        """A mapping of outside group names to values from ``allowed`` (the portal's roles).

        Either JSON, ``{"group": "Role"}`` or ``{"group": ["Role", "Role"]}``, or the short form
        ``group=Role;group=Role`` (a group may appear more than once). Unset: an empty mapping.
        Anything else stops start-up: a mistyped role must not quietly grant nothing, or the wrong thing.
        """
        value = self._raw(name)
        if value is None:
            return {}
        pairs: builtins.list[tuple[builtins.str, builtins.str]] = []
        if value.startswith("{"):
            try:
                parsed = json.loads(value)
            except ValueError:
                raise ConfigurationError(f"{name} is not valid JSON") from None
            if not isinstance(parsed, dict):
                raise ConfigurationError(f"{name} must be a JSON object of group name to role(s)")
            for group, roles in parsed.items():
                items = [roles] if isinstance(roles, builtins.str) else roles
                if not isinstance(items, builtins.list) or not all(
                    isinstance(r, builtins.str) for r in items
                ):
                    raise ConfigurationError(
                        f"{name}: the roles of group {group!r} must be a string or a list"
                    )
                pairs += [(group, role) for role in items]
        else:
            for position, entry in enumerate(value.split(";"), start=1):
                if not entry.strip():
                    continue
                group, separator, role = entry.rpartition("=")
                if not separator:
                    raise ConfigurationError(f"{name}: entry {position} must look like group=Role")
                pairs.append((group, role))
        mapping: dict[builtins.str, builtins.list[builtins.str]] = {}
        for group, role in pairs:
            group, role = group.strip(), role.strip()
            if not group:
                raise ConfigurationError(f"{name}: a group name is empty")
            if role not in allowed:
                raise ConfigurationError(
                    f"{name}: {role!r} (for group {group!r}) is not one of {', '.join(allowed)}"
                )
            if role not in mapping.setdefault(group, []):
                mapping[group].append(role)
        return {group: tuple(roles) for group, roles in mapping.items()}
