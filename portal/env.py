"""Strict parsing of configuration from environment variables.

A typo in production configuration must stop start-up with a message naming the variable,
never silently fall back to a default (``DJANGO_DEBUG=flase`` must not mean "debug off" by luck).
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
import os
import re
from collections.abc import Mapping

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
MAX_KEY_ID_LENGTH = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


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

    def key_ring(self, name: builtins.str, *, sizes: range) -> builtins.str | None:
        """A key ring (see :func:`parse_key_ring`) checked whole, or None when unset.

        Every key must be ``len(sizes)``-allowed bytes long and have its own id. The value is returned
        as written: the app that uses the keys parses it again where it needs them.
        """
        value = self._raw(name)
        if value is None:
            return None
        try:
            keys = parse_key_ring(value, what=name)
        except ConfigurationError as error:
            raise ConfigurationError(f"{name}: {error}") from None
        seen: set[builtins.str] = set()
        for key_id, key in keys:
            if key_id in seen:
                raise ConfigurationError(f"{name}: key id {key_id!r} appears more than once")
            seen.add(key_id)
            if len(key) not in sizes:
                raise ConfigurationError(
                    f"{name}: key {key_id!r} is {len(key)} bytes long; "
                    f"expected {sizes.start} to {sizes.stop - 1} bytes"
                )
        return value

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


def is_valid_key_id(key_id: builtins.str) -> builtins.bool:
    # fullmatch, not match with "$": "$" would let a trailing newline through.
    return _KEY_ID.fullmatch(key_id) is not None


def parse_key_ring(
    value: builtins.str, *, what: builtins.str = "keys"
) -> builtins.list[tuple[builtins.str, bytes]]:
    """Parse a key ring ``"keyid:base64key,keyid:base64key,..."``, newest first, into (id, bytes) pairs.

    The one parser of every key ring: the ledger's (``PORTAL_LEDGER_KEYS``, ``PORTAL_LEDGER_SIGNING_KEY``)
    and ``breakglass.crypto.Keyring.from_config`` (``PORTAL_ENCRYPTION_KEYS``), which imports it without
    Django (this module needs none). Callers check key sizes and duplicates.
    ``what`` names the ring in the message for an empty value. Messages name an entry by position
    (and its id once the id is known to be well-formed) but never echo the entry itself: a mistyped
    entry may well be a key.
    """
    if not isinstance(value, builtins.str) or not value.strip():
        raise ConfigurationError(
            f"no {what} configured: expected a comma-separated list of 'keyid:base64key'"
        )
    keys: builtins.list[tuple[builtins.str, bytes]] = []
    for position, raw_entry in enumerate(value.split(","), start=1):
        entry = raw_entry.strip()
        if not entry:
            raise ConfigurationError(
                f"entry {position} is empty (a stray comma?): expected 'keyid:base64key'"
            )
        key_id, separator, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not separator:
            raise ConfigurationError(f"entry {position} has no key id: expected 'keyid:base64key'")
        if not is_valid_key_id(key_id):
            raise ConfigurationError(
                f"entry {position} has an invalid key id: use 1 to {MAX_KEY_ID_LENGTH} characters "
                "from A-Z, a-z, 0-9, '_' and '-'"
            )
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            # "from None": binascii's own message and the chained traceback are not needed, and
            # nothing about the key text should travel further than this line.
            raise ConfigurationError(f"key {key_id!r} (entry {position}) is not valid base64") from None
        keys.append((key_id, key))
    return keys
